// Hand-written SVG line charts for the gateway cards: no chart library.

window.charts = (() => {
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function path(points, x, y) {
    var d = '';
    for (var i = 0; i < points.length; i++)
      d += (i ? 'L' : 'M') + x(points[i].t).toFixed(1) + ',' + y(points[i].v).toFixed(1);
    return d;
  }
  // series: [{cls, points: [{t, v}], max}]; window in ms ending at now.
  function lines(svg, series, windowMs, now) {
    var W = 360,
      H = 70,
      top = 4,
      bottom = H - 12;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('preserveAspectRatio', 'none');
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var x = (t) => W * (1 - (now - t) / windowMs);
    for (var g = 0; g <= 2; g++)
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
      var max = s.max > 0 ? s.max : 1;
      var y = (v) => bottom - ((bottom - top) * Math.min(v, max)) / max;
      if (s.points.length > 1) svg.appendChild(el('path', { d: path(s.points, x, y), class: s.cls }));
      var label = el('text', { x: i ? W - 2 : 2, y: H - 1, 'text-anchor': i ? 'end' : 'start' });
      label.textContent = s.label;
      svg.appendChild(label);
    });
  }
  return { lines: lines };
})();
