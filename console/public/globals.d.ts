// The globals the page's classic scripts share (index.html loads jsmpg.js, charts.js, app.js in order).

/** A series of one line chart: points in time, drawn against 0..max. */
interface ChartSeries {
  cls: string;
  points: { t: number; v: number }[];
  max: number;
  label: string;
}

/** charts.js */
declare var charts: {
  lines(svg: SVGSVGElement, series: ChartSeries[], windowMs: number, now: number): void;
};

/** jsmpeg 1.0 (node_modules/jsmpeg/jsmpg.js): the old API that takes the socket itself. */
declare class jsmpeg {
  constructor(
    source: WebSocket,
    opts: { canvas: HTMLCanvasElement; forceCanvas2D?: boolean; ondecodeframe?: () => void },
  );
}
