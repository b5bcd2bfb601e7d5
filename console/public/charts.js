// @ts-check
// Hand-written SVG line charts for the gateway cards: no chart library.

window.charts = (() => {
  const NS = 'http://www.w3.org/2000/svg';
  /**
   * @param {string} name
   * @param {Record<string, string | number>} attrs
   */
  function el(name, attrs) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    return e;
  }
  /**
   * @param {ChartSeries['points']} points
   * @param {(t: number) => number} x
   * @param {(v: number) => number} y
   */
  function path(points, x, y) {
    return points.map((p, i) => (i ? 'L' : 'M') + x(p.t).toFixed(1) + ',' + y(p.v).toFixed(1)).join('');
  }
  /**
   * Draws `series` over the window of `windowMs` ending at `now`.
   * @param {SVGSVGElement} svg
   * @param {ChartSeries[]} series
   * @param {number} windowMs
   * @param {number} now
   */
  function lines(svg, series, windowMs, now) {
    const W = 360,
      H = 70,
      top = 4,
      bottom = H - 12;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('preserveAspectRatio', 'none');
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    /** @param {number} t */
    const x = (t) => W * (1 - (now - t) / windowMs);
    for (let g = 0; g <= 2; g++)
      svg.appendChild(
        el('line', {
          x1: 0,
          x2: W,
          y1: top + ((bottom - top) * g) / 2,
          y2: top + ((bottom - top) * g) / 2,
          class: 'grid',
        }),
      );
    series.forEach((s, i) => {
      const max = s.max > 0 ? s.max : 1;
      /** @param {number} v */
      const y = (v) => bottom - ((bottom - top) * Math.min(v, max)) / max;
      if (s.points.length > 1) svg.appendChild(el('path', { d: path(s.points, x, y), class: s.cls }));
      const label = el('text', { x: i ? W - 2 : 2, y: H - 1, 'text-anchor': i ? 'end' : 'start' });
      label.textContent = s.label;
      svg.appendChild(label);
    });
  }
  return { lines: lines };
})();
