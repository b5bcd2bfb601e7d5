// @ts-check
// The facegate console page: state from the server's event stream (/events), live video from
// /live/<camera> (MPEG-1 over WebSocket, played by jsmpeg) with face boxes drawn over it.

/** @typedef {import('../protocol.ts').CatalogCamera} CatalogCamera */
/** @typedef {import('../protocol.ts').StatusView} StatusView */
/** @typedef {import('../protocol.ts').FaceView} FaceView */
/** @typedef {import('../protocol.ts').StatsSample} StatsSample */
/** @typedef {import('../protocol.ts').SimulatorView} SimulatorView */
/** @typedef {import('../protocol.ts').PageInfo} PageInfo */
/** @typedef {import('../protocol.ts').SnapshotEvent} SnapshotEvent */
/** @typedef {import('../protocol.ts').LinkEvent} LinkEvent */
/** @typedef {import('../protocol.ts').PrivacyView} PrivacyView */
/**
 * @template {import('../protocol.ts').Delta['kind']} K
 * @typedef {Extract<import('../protocol.ts').Delta, { kind: K }>} DeltaOf
 */
/** @typedef {{ status: StatusView | null; stats: StatsSample[] }} GatewayView */
/** @typedef {{ ev: FaceView; at: number }} ActiveFace */
/**
 * @typedef {object} LiveView
 * @property {WebSocket} ws
 * @property {HTMLElement} panel
 * @property {HTMLCanvasElement} video
 * @property {HTMLCanvasElement} overlay
 * @property {jsmpeg} player
 */
/** @typedef {'grid' | 'tiles' | 'gateways' | 'events' | 'header'} Part */

(() => {
  const STATS_WINDOW_MS = 10 * 60 * 1000;
  const EVENTS_SHOWN = 60;
  const ACTIVE_TTL_MS = 60 * 1000;

  /**
   * @type {{
   *   catalog: { count: number; cameras: CatalogCamera[] };
   *   cameras: Record<string, StatusView>;
   *   gateways: Record<string, GatewayView>;
   *   events: FaceView[];
   *   active: Record<string, ActiveFace>;
   *   simulator: SimulatorView | null;
   *   info: Partial<PageInfo>;
   *   privacy: Record<string, PrivacyView>;
   * }}
   */
  const st = {
    catalog: { count: 0, cameras: [] },
    cameras: {},
    gateways: {},
    events: [],
    active: {},
    simulator: null,
    info: {},
    privacy: {},
  };
  /** @type {Record<string, LiveView>} camera id -> its open live view */
  const views = {};

  /**
   * The one element under `root` that matches `sel`, of the given kind; the page is broken without it.
   * @template {Element} T
   * @param {ParentNode} root
   * @param {string} sel
   * @param {{ new (): T; prototype: T }} kind
   * @returns {T}
   */
  function one(root, sel, kind) {
    const e = root.querySelector(sel);
    if (!(e instanceof kind)) throw new Error('console page: no ' + sel);
    return e;
  }
  /** @param {string} id */
  const $ = (id) => one(document, '#' + id, HTMLElement);
  const camcount = one(document, '#camcount', HTMLInputElement);
  const camset = one(document, '#camset', HTMLButtonElement);
  /**
   * @template {keyof HTMLElementTagNameMap} K
   * @param {K} tag
   * @param {string | null} [cls]
   * @param {string} [text]
   * @returns {HTMLElementTagNameMap[K]}
   */
  const h = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  // ---- rendering, coalesced to one animation frame --------------------------------------------
  /** @type {Partial<Record<Part, true>>} */
  let dirty = {};
  /** @param {Part} what */
  function mark(what) {
    if (!Object.keys(dirty).length) requestAnimationFrame(flush);
    dirty[what] = true;
  }
  function flush() {
    const d = dirty;
    dirty = {};
    if (d.grid) renderGrid();
    if (d.tiles || d.grid) renderTiles();
    if (d.gateways) renderGateways();
    if (d.events) renderEvents();
    if (d.header) renderHeader();
  }

  function renderHeader() {
    const link = $('link');
    link.textContent = st.info.connected ? 'broker connected' : 'broker disconnected';
    link.className = 'pill ' + (st.info.connected ? 'on' : 'off');
    let online = 0;
    for (const s of Object.values(st.cameras)) if (s.status === 'online') online++;
    let gws = 0;
    for (const g of Object.values(st.gateways)) if (g.status?.status === 'online') gws++;
    $('summary').textContent =
      st.catalog.count + ' cameras, ' + online + ' online, ' + gws + ' gateway(s) online';
    const sim = st.simulator;
    // biome-ignore lint/suspicious/noUnnecessaryConditions: Biome types st by its first value, not its JSDoc; the stream replaces it
    $('simstatus').textContent = sim ? sim.status : '?';
    $('simstatus').className = 'pill ' + (sim?.status === 'online' ? 'on' : 'off');
    if (document.activeElement !== camcount && !camcount.dataset['touched'])
      // biome-ignore lint/suspicious/noUnnecessaryConditions: Biome types st by its first value, not its JSDoc; the stream replaces it
      camcount.value = String(st.catalog.count || '');
    const allowed = st.info.control !== false;
    camcount.disabled = !allowed;
    camset.disabled = !allowed;
    if (!allowed) $('simnote').textContent = 'control off (simulator.control=false)';
  }

  function renderGrid() {
    const grid = $('grid');
    grid.textContent = '';
    const cams = st.catalog.cameras;
    if (!cams.length) {
      grid.appendChild(h('p', 'empty', "waiting for the simulator's catalog…"));
      return;
    }
    /** @type {Map<string, CatalogCamera[]>} */
    const byDistrict = new Map();
    for (const c of cams) {
      const name = c.district || '(none)';
      const list = byDistrict.get(name) ?? [];
      list.push(c);
      byDistrict.set(name, list);
    }
    [...byDistrict]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .forEach(([name, list]) => {
        const sec = h('section', 'district');
        sec.dataset['district'] = name;
        const title = h('h3', null, name + ' ');
        title.appendChild(h('small'));
        sec.appendChild(title);
        const tiles = h('div', 'tiles');
        list
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .forEach((c) => {
            const b = h('button', 'cam', c.id.replace(/^0+(?=\d{2})/, ''));
            b.dataset['id'] = c.id;
            b.title = c.id + ' · ' + name + ' building ' + c.building + ' entrance ' + c.entrance;
            b.onclick = () => {
              openView(c.id);
            };
            tiles.appendChild(b);
          });
        sec.appendChild(tiles);
        grid.appendChild(sec);
      });
  }

  function renderTiles() {
    const now = Date.now();
    /** @type {Set<string>} cameras with a face on screen */
    const faces = new Set();
    for (const [e, a] of Object.entries(st.active)) {
      if (now - a.at > ACTIVE_TTL_MS) delete st.active[e];
      else faces.add(a.ev.cameraId);
    }
    document.querySelectorAll('#grid .district').forEach((sec) => {
      let on = 0,
        all = 0;
      /** @type {NodeListOf<HTMLButtonElement>} */ (sec.querySelectorAll('.cam')).forEach((b) => {
        const id = b.dataset['id'] ?? '';
        const s = st.cameras[id];
        const status = s ? s.status : 'none';
        all++;
        if (status === 'online') on++;
        // Detection suspended (privacy): the tile says so, and by whom.
        const pv = st.privacy[id];
        const off = pv !== undefined && pv.state === 'suspended';
        b.className =
          'cam s-' +
          status +
          (faces.has(id) ? ' face' : '') +
          (views[id] ? ' watching' : '') +
          (off ? ' suspended' : '');
        b.dataset['status'] = status;
        b.dataset['privacy'] = off ? 'suspended' : 'active';
        b.title =
          b.title.split(' — ')[0] +
          ' — ' +
          status +
          (s?.gatewayId ? ' via ' + s.gatewayId : '') +
          (s?.detail ? ' (' + s.detail + ')' : '') +
          (pv && off
            ? ' · detection suspended since ' +
              pv.since +
              ' by ' +
              pv.by +
              (pv.clientId ? ' (' + pv.clientId + ')' : '') +
              (pv.reason ? ': ' + pv.reason : '')
            : '');
      });
      one(sec, 'h3 small', HTMLElement).textContent = on + '/' + all + ' online';
    });
  }

  /**
   * Analysed frames per second between samples, and CPU, as chart points.
   * @param {StatsSample[]} samples
   */
  function rates(samples) {
    /** @type {ChartSeries['points']} */
    const fps = [];
    /** @type {ChartSeries['points']} */
    const cpu = [];
    /** @type {StatsSample | undefined} */
    let p;
    for (const s of samples) {
      cpu.push({ t: s.t, v: s.cpu });
      if (p && s.t > p.t && s.analysed >= p.analysed)
        fps.push({ t: s.t, v: ((s.analysed - p.analysed) * 1000) / (s.t - p.t) });
      p = s;
    }
    return { fps: fps, cpu: cpu };
  }
  /** @param {number} v */
  function ceilNice(v) {
    for (const step of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]) if (v <= step) return step;
    return v;
  }

  function renderGateways() {
    const box = $('gateways');
    const gateways = Object.entries(st.gateways).sort(([a], [b]) => (a < b ? -1 : 1));
    if (!gateways.length) return;
    box.querySelector('.empty')?.remove();
    const now = Date.now();
    gateways.forEach(([id, g]) => {
      let card = /** @type {HTMLElement | null} */ (
        box.querySelector('.gw[data-id="' + CSS.escape(id) + '"]')
      );
      if (!card) {
        card = h('div', 'gw');
        card.dataset['id'] = id;
        const top = h('div', 'top');
        top.appendChild(h('b', null, id));
        top.appendChild(h('span', 'pill'));
        card.appendChild(top);
        card.appendChild(h('div', 'nums'));
        card.appendChild(document.createElementNS('http://www.w3.org/2000/svg', 'svg'));
        box.appendChild(card);
      }
      const status = g.status ? g.status.status : '?';
      const pill = one(card, '.pill', HTMLElement);
      pill.textContent = status;
      pill.className = 'pill ' + (status === 'online' ? 'on' : 'off');
      card.dataset['status'] = status;
      const last = g.stats.at(-1);
      const r = rates(g.stats);
      const lastFps = r.fps.at(-1)?.v ?? 0;
      one(card, '.nums', HTMLElement).textContent = last
        ? 'cameras ' +
          last.online +
          '/' +
          last.assigned +
          ' · decoded ' +
          last.decoded +
          (last.skippedStill > 0 ? ' · skipped still ' + last.skippedStill : '') +
          (last.catchUp > 0 ? ' · catch-up ' + last.catchUp : '') +
          ' · analysed ' +
          lastFps.toFixed(1) +
          '/s · dropped ' +
          last.dropped +
          ' · CPU ' +
          last.cpu.toFixed(0) +
          '% · RSS ' +
          last.rss.toFixed(0) +
          ' MB'
        : 'no stats yet';
      const maxFps = ceilNice(Math.max(1, ...r.fps.map((p) => p.v)));
      const maxCpu = ceilNice(Math.max(100, ...r.cpu.map((p) => p.v)));
      // The x axis spans the data there is, from one minute up to the ten the server keeps.
      const first = g.stats.at(0);
      const span = first ? now - first.t : 0;
      const windowMs = Math.max(60 * 1000, Math.min(STATS_WINDOW_MS, Math.ceil(span / 60000) * 60000));
      charts.lines(
        one(card, 'svg', SVGSVGElement),
        [
          { cls: 'fps', points: r.fps, max: maxFps, label: 'max ' + maxFps + ' fps' },
          {
            cls: 'cpu',
            points: r.cpu,
            max: maxCpu,
            label: maxCpu + '% CPU · last ' + windowMs / 60000 + ' min',
          },
        ],
        windowMs,
        now,
      );
    });
  }

  function renderEvents() {
    const list = $('events');
    list.textContent = '';
    st.events
      .slice(-EVENTS_SHOWN)
      .reverse()
      .forEach((e) => {
        const li = h('li', 't-' + e.type);
        li.dataset['camera'] = e.cameraId;
        li.dataset['type'] = e.type;
        li.textContent =
          (e.ts || '').slice(11, 19) +
          ' ' +
          e.type.padEnd(6) +
          ' cam ' +
          e.cameraId +
          ' #' +
          e.trackId +
          ' score ' +
          e.score.toFixed(2) +
          ' ' +
          e.gatewayId;
        list.appendChild(li);
      });
  }

  // ---- the event stream --------------------------------------------------------------------
  /** @param {FaceView} ev */
  function onFace(ev) {
    st.events.push(ev);
    if (st.events.length > 500) st.events.splice(0, st.events.length - 500);
    if (ev.type === 'end') delete st.active[ev.eventId];
    else st.active[ev.eventId] = { ev: ev, at: Date.now() };
    mark('events');
    mark('tiles');
  }

  /**
   * The gateway's entry, created empty on first news of it.
   * @param {string} id
   */
  function gatewayView(id) {
    const g = st.gateways[id] ?? { status: null, stats: [] };
    st.gateways[id] = g;
    return g;
  }

  function connect() {
    const es = new EventSource('/events');
    es.addEventListener('snapshot', (m) => {
      /** @type {SnapshotEvent} */
      const s = JSON.parse(m.data);
      st.catalog = s.catalog;
      st.cameras = s.cameras;
      st.gateways = s.gateways;
      st.events = s.events;
      st.simulator = s.simulator;
      st.privacy = s.privacy;
      st.info = s.info;
      st.active = {};
      s.active.forEach((ev) => {
        st.active[ev.eventId] = { ev: ev, at: Date.now() };
      });
      $('gateways').textContent = '';
      $('gateways').appendChild(h('p', 'empty', 'no gateway yet'));
      /** @type {Part[]} */ (['grid', 'gateways', 'events', 'header']).forEach(mark);
    });
    es.addEventListener('catalog', (m) => {
      /** @type {DeltaOf<'catalog'>} */
      const d = JSON.parse(m.data);
      st.catalog = { count: d.count, cameras: d.cameras };
      mark('grid');
      mark('header');
    });
    es.addEventListener('camera', (m) => {
      /** @type {DeltaOf<'camera'>} */
      const d = JSON.parse(m.data);
      if (d.status) st.cameras[d.id] = d.status;
      else delete st.cameras[d.id];
      mark('tiles');
      mark('header');
    });
    es.addEventListener('gateway', (m) => {
      /** @type {DeltaOf<'gateway'>} */
      const d = JSON.parse(m.data);
      gatewayView(d.id).status = d.status;
      mark('gateways');
      mark('header');
    });
    es.addEventListener('stats', (m) => {
      /** @type {DeltaOf<'stats'>} */
      const d = JSON.parse(m.data);
      const g = gatewayView(d.id);
      g.stats.push(d.sample);
      const from = Date.now() - STATS_WINDOW_MS;
      const kept = g.stats.findIndex((s) => s.t >= from);
      g.stats.splice(0, kept < 0 ? g.stats.length : kept);
      mark('gateways');
    });
    es.addEventListener('face', (m) => {
      /** @type {DeltaOf<'face'>} */
      const d = JSON.parse(m.data);
      onFace(d.event);
    });
    es.addEventListener('privacy', (m) => {
      /** @type {DeltaOf<'privacy'>} */
      const d = JSON.parse(m.data);
      if (d.record) st.privacy[d.id] = d.record;
      else delete st.privacy[d.id];
      mark('tiles');
    });
    es.addEventListener('simulator', (m) => {
      /** @type {DeltaOf<'simulator'>} */
      const d = JSON.parse(m.data);
      st.simulator = d.status;
      mark('header');
    });
    es.addEventListener('link', (m) => {
      /** @type {LinkEvent} */
      const d = JSON.parse(m.data);
      st.info.connected = d.connected;
      mark('header');
    });
    es.onerror = () => {
      st.info.connected = false;
      mark('header');
    };
  }

  // ---- live views --------------------------------------------------------------------------
  /** @type {Record<number, string>} */
  const CLOSE_REASONS = { 4003: 'too many live views', 4004: 'unknown camera', 1001: 'console closing' };

  /** @param {string} id */
  function openView(id) {
    if (views[id]) return;
    const panel = h('div', 'view');
    panel.id = 'live-' + id;
    const bar = h('div', 'bar');
    bar.appendChild(h('b', null, 'camera ' + id));
    const close = h('button', null, 'close');
    bar.appendChild(close);
    panel.appendChild(bar);
    const screen = h('div', 'screen');
    const video = h('canvas', 'video');
    const overlay = h('canvas', 'overlay');
    screen.appendChild(video);
    screen.appendChild(overlay);
    panel.appendChild(screen);
    const note = h('div', 'note', 'connecting…');
    panel.appendChild(note);
    $('live').appendChild(panel);

    const ws = new WebSocket(
      (location.protocol === 'https:' ? 'wss://' : 'ws://') +
        location.host +
        '/live/' +
        encodeURIComponent(id),
    );
    let frames = 0;
    // The old jsmpeg API: it takes the socket, reads the 8-byte "jsmp" header, then MPEG-1.
    // 2D canvas: the page (and the test) can read its pixels; WebGL would need preserveDrawingBuffer.
    const player = new jsmpeg(ws, {
      canvas: video,
      forceCanvas2D: true,
      ondecodeframe: () => {
        frames++;
        if (frames === 1) note.textContent = 'live';
        video.dataset['frames'] = String(frames);
      },
    });
    ws.addEventListener('close', (e) => {
      note.textContent =
        'stopped: ' + (e.reason || CLOSE_REASONS[e.code] || 'connection closed (' + e.code + ')');
      panel.classList.add('closed');
    });
    views[id] = { ws: ws, panel: panel, video: video, overlay: overlay, player: player };
    close.onclick = () => {
      ws.close();
      panel.remove();
      delete views[id];
      mark('tiles');
    };
    mark('tiles');
  }

  /**
   * The privacy masks of a camera: from the configuration and from the catalog.
   * @param {string} id
   * @returns {[number, number][][]}
   */
  function masksOf(id) {
    const own = st.info.masks?.[id] ?? [];
    const cam = st.catalog.cameras.find((c) => c.id === id);
    return own.concat(cam?.masks ?? []);
  }

  // Face boxes over every open view, from the active events of its camera.
  function drawOverlays() {
    const now = Date.now();
    for (const [id, v] of Object.entries(views)) {
      const W = v.video.width || 640,
        H = v.video.height || 360;
      if (v.overlay.width !== W) v.overlay.width = W;
      if (v.overlay.height !== H) v.overlay.height = H;
      const g = v.overlay.getContext('2d');
      if (!g) continue; // only if the canvas already had another kind of context
      g.clearRect(0, 0, W, H);
      // Privacy masks: the server already blanked these pixels; the outline says why they are black.
      const masks = masksOf(id);
      v.overlay.dataset['masks'] = String(masks.length);
      g.lineWidth = 2;
      g.setLineDash([6, 4]);
      g.strokeStyle = '#ff6b6b';
      for (const poly of masks) {
        g.beginPath();
        poly.forEach(([x, y], k) => {
          if (k === 0) g.moveTo(x * W, y * H);
          else g.lineTo(x * W, y * H);
        });
        g.closePath();
        g.stroke();
      }
      g.lineWidth = 3;
      g.font = '16px system-ui, sans-serif';
      for (const a of Object.values(st.active)) {
        if (a.ev.cameraId !== id || now - a.at > ACTIVE_TTL_MS) continue;
        const b = a.ev.box;
        // Solid while fresh; dashed once the gateway has said nothing new for a while (with
        // gateway.updateEveryS=0 only start and end come, so the box stays where the face began).
        g.setLineDash(now - a.at > 1500 ? [8, 6] : []);
        g.strokeStyle = '#ffd33d';
        g.strokeRect(b[0] * W, b[1] * H, b[2] * W, b[3] * H);
        g.fillStyle = '#ffd33d';
        g.fillText('#' + a.ev.trackId + ' ' + a.ev.score.toFixed(2), b[0] * W, Math.max(14, b[1] * H - 4));
      }
    }
    requestAnimationFrame(drawOverlays);
  }

  // ---- simulator control -------------------------------------------------------------------
  camcount.addEventListener('input', () => {
    camcount.dataset['touched'] = '1';
  });
  $('simform').addEventListener('submit', (e) => {
    e.preventDefault();
    const n = Number(camcount.value);
    $('simnote').textContent = 'sending…';
    fetch('/api/simulator', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cameras: n }),
    })
      .then((r) =>
        r.json().then(
          /** @param {{ cameras?: number; error?: string }} b */
          (b) => ({ ok: r.ok, body: b }),
        ),
      )
      .then((r) => {
        $('simnote').textContent = r.ok ? 'asked for ' + r.body.cameras : (r.body.error ?? '');
        delete camcount.dataset['touched'];
      })
      .catch((err) => {
        $('simnote').textContent = String(err);
      });
  });

  connect();
  drawOverlays();
  setInterval(() => {
    mark('gateways');
    mark('tiles');
  }, 5000); // charts slide, stale faces go
})();
