// The facegate console page: state from the server's event stream (/events), live video from
// /live/<camera> (MPEG-1 over WebSocket, played by jsmpeg) with face boxes drawn over it.

(() => {
  var STATS_WINDOW_MS = 10 * 60 * 1000;
  var EVENTS_SHOWN = 60;
  var ACTIVE_TTL_MS = 60 * 1000;

  var st = {
    catalog: { count: 0, cameras: [] },
    cameras: {},
    gateways: {},
    events: [],
    active: {},
    simulator: null,
    info: {},
    privacy: {},
  };
  var views = {}; // camera id -> { ws, panel, overlay, video }
  var $ = (id) => document.getElementById(id);
  var h = (tag, cls, text) => {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  // ---- rendering, coalesced to one animation frame --------------------------------------------
  var dirty = {};
  function mark(what) {
    if (!Object.keys(dirty).length) requestAnimationFrame(flush);
    dirty[what] = true;
  }
  function flush() {
    var d = dirty;
    dirty = {};
    if (d.grid) renderGrid();
    if (d.tiles || d.grid) renderTiles();
    if (d.gateways) renderGateways();
    if (d.events) renderEvents();
    if (d.header) renderHeader();
  }

  function renderHeader() {
    var link = $('link');
    link.textContent = st.info.connected ? 'broker connected' : 'broker disconnected';
    link.className = 'pill ' + (st.info.connected ? 'on' : 'off');
    var online = 0;
    for (var id in st.cameras) if (st.cameras[id].status === 'online') online++;
    var gws = 0;
    for (var g in st.gateways) if (st.gateways[g].status && st.gateways[g].status.status === 'online') gws++;
    $('summary').textContent =
      st.catalog.count + ' cameras, ' + online + ' online, ' + gws + ' gateway(s) online';
    var sim = st.simulator;
    $('simstatus').textContent = sim ? sim.status : '?';
    $('simstatus').className = 'pill ' + (sim && sim.status === 'online' ? 'on' : 'off');
    var input = $('camcount');
    if (document.activeElement !== input && !input.dataset.touched) input.value = st.catalog.count || '';
    var allowed = st.info.control !== false;
    input.disabled = !allowed;
    $('camset').disabled = !allowed;
    if (!allowed) $('simnote').textContent = 'control off (simulator.control=false)';
  }

  function renderGrid() {
    var grid = $('grid');
    grid.textContent = '';
    var cams = st.catalog.cameras;
    if (!cams.length) {
      grid.appendChild(h('p', 'empty', "waiting for the simulator's catalog…"));
      return;
    }
    var byDistrict = {};
    cams.forEach((c) => {
      (byDistrict[c.district || '(none)'] = byDistrict[c.district || '(none)'] || []).push(c);
    });
    Object.keys(byDistrict)
      .sort()
      .forEach((name) => {
        var sec = h('section', 'district');
        sec.dataset.district = name;
        var title = h('h3', null, name + ' ');
        title.appendChild(h('small'));
        sec.appendChild(title);
        var tiles = h('div', 'tiles');
        byDistrict[name]
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .forEach((c) => {
            var b = h('button', 'cam', c.id.replace(/^0+(?=\d{2})/, ''));
            b.dataset.id = c.id;
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
    var now = Date.now();
    var faces = {};
    for (var e in st.active) {
      if (now - st.active[e].at > ACTIVE_TTL_MS) delete st.active[e];
      else faces[st.active[e].ev.cameraId] = true;
    }
    document.querySelectorAll('#grid .district').forEach((sec) => {
      var on = 0,
        all = 0;
      sec.querySelectorAll('.cam').forEach((b) => {
        var s = st.cameras[b.dataset.id];
        var status = s ? s.status : 'none';
        all++;
        if (status === 'online') on++;
        // Detection suspended (privacy): the tile says so, and by whom.
        var pv = st.privacy[b.dataset.id];
        var off = pv && pv.state === 'suspended';
        b.className =
          'cam s-' +
          status +
          (faces[b.dataset.id] ? ' face' : '') +
          (views[b.dataset.id] ? ' watching' : '') +
          (off ? ' suspended' : '');
        b.dataset.status = status;
        b.dataset.privacy = off ? 'suspended' : 'active';
        b.title =
          b.title.split(' — ')[0] +
          ' — ' +
          status +
          (s?.gatewayId ? ' via ' + s.gatewayId : '') +
          (s?.detail ? ' (' + s.detail + ')' : '') +
          (off
            ? ' · detection suspended since ' +
              pv.since +
              ' by ' +
              pv.by +
              (pv.clientId ? ' (' + pv.clientId + ')' : '') +
              (pv.reason ? ': ' + pv.reason : '')
            : '');
      });
      sec.querySelector('h3 small').textContent = on + '/' + all + ' online';
    });
  }

  function rates(samples) {
    var fps = [],
      cpu = [];
    for (var i = 0; i < samples.length; i++) {
      var s = samples[i],
        p = samples[i - 1];
      cpu.push({ t: s.t, v: s.cpu });
      if (p && s.t > p.t && s.analysed >= p.analysed)
        fps.push({ t: s.t, v: ((s.analysed - p.analysed) * 1000) / (s.t - p.t) });
    }
    return { fps: fps, cpu: cpu };
  }
  function ceilNice(v) {
    var steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];
    for (var i = 0; i < steps.length; i++) if (v <= steps[i]) return steps[i];
    return v;
  }

  function renderGateways() {
    var box = $('gateways');
    var ids = Object.keys(st.gateways).sort();
    if (!ids.length) return;
    var empty = box.querySelector('.empty');
    if (empty) empty.remove();
    var now = Date.now();
    ids.forEach((id) => {
      var g = st.gateways[id];
      var card = box.querySelector('.gw[data-id="' + CSS.escape(id) + '"]');
      if (!card) {
        card = h('div', 'gw');
        card.dataset.id = id;
        var top = h('div', 'top');
        top.appendChild(h('b', null, id));
        top.appendChild(h('span', 'pill'));
        card.appendChild(top);
        card.appendChild(h('div', 'nums'));
        card.appendChild(document.createElementNS('http://www.w3.org/2000/svg', 'svg'));
        box.appendChild(card);
      }
      var status = g.status ? g.status.status : '?';
      var pill = card.querySelector('.pill');
      pill.textContent = status;
      pill.className = 'pill ' + (status === 'online' ? 'on' : 'off');
      card.dataset.status = status;
      var last = g.stats[g.stats.length - 1];
      var r = rates(g.stats);
      var lastFps = r.fps.length ? r.fps[r.fps.length - 1].v : 0;
      card.querySelector('.nums').textContent = last
        ? 'cameras ' +
          last.online +
          '/' +
          last.assigned +
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
      var maxFps = ceilNice(Math.max.apply(null, [1].concat(r.fps.map((p) => p.v))));
      var maxCpu = ceilNice(Math.max.apply(null, [100].concat(r.cpu.map((p) => p.v))));
      // The x axis spans the data there is, from one minute up to the ten the server keeps.
      var span = g.stats.length ? now - g.stats[0].t : 0;
      var windowMs = Math.max(60 * 1000, Math.min(STATS_WINDOW_MS, Math.ceil(span / 60000) * 60000));
      charts.lines(
        card.querySelector('svg'),
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
    var list = $('events');
    list.textContent = '';
    st.events
      .slice(-EVENTS_SHOWN)
      .reverse()
      .forEach((e) => {
        var li = h('li', 't-' + e.type);
        li.dataset.camera = e.cameraId;
        li.dataset.type = e.type;
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
  function onFace(ev) {
    st.events.push(ev);
    if (st.events.length > 500) st.events.splice(0, st.events.length - 500);
    if (ev.type === 'end') delete st.active[ev.eventId];
    else st.active[ev.eventId] = { ev: ev, at: Date.now() };
    mark('events');
    mark('tiles');
  }

  function connect() {
    var es = new EventSource('/events');
    es.addEventListener('snapshot', (m) => {
      var s = JSON.parse(m.data);
      st.catalog = s.catalog;
      st.cameras = s.cameras;
      st.gateways = s.gateways;
      st.events = s.events;
      st.simulator = s.simulator;
      st.privacy = s.privacy || {};
      st.info = s.info;
      st.active = {};
      s.active.forEach((ev) => {
        st.active[ev.eventId] = { ev: ev, at: Date.now() };
      });
      $('gateways').textContent = '';
      $('gateways').appendChild(h('p', 'empty', 'no gateway yet'));
      ['grid', 'gateways', 'events', 'header'].forEach(mark);
    });
    es.addEventListener('catalog', (m) => {
      var d = JSON.parse(m.data);
      st.catalog = { count: d.count, cameras: d.cameras };
      mark('grid');
      mark('header');
    });
    es.addEventListener('camera', (m) => {
      var d = JSON.parse(m.data);
      if (d.status) st.cameras[d.id] = d.status;
      else delete st.cameras[d.id];
      mark('tiles');
      mark('header');
    });
    es.addEventListener('gateway', (m) => {
      var d = JSON.parse(m.data);
      (st.gateways[d.id] = st.gateways[d.id] || { status: null, stats: [] }).status = d.status;
      mark('gateways');
      mark('header');
    });
    es.addEventListener('stats', (m) => {
      var d = JSON.parse(m.data);
      var g = (st.gateways[d.id] = st.gateways[d.id] || { status: null, stats: [] });
      g.stats.push(d.sample);
      var from = Date.now() - STATS_WINDOW_MS;
      while (g.stats.length && g.stats[0].t < from) g.stats.shift();
      mark('gateways');
    });
    es.addEventListener('face', (m) => {
      onFace(JSON.parse(m.data).event);
    });
    es.addEventListener('privacy', (m) => {
      var d = JSON.parse(m.data);
      if (d.record) st.privacy[d.id] = d.record;
      else delete st.privacy[d.id];
      mark('tiles');
    });
    es.addEventListener('simulator', (m) => {
      st.simulator = JSON.parse(m.data).status;
      mark('header');
    });
    es.addEventListener('link', (m) => {
      st.info.connected = JSON.parse(m.data).connected;
      mark('header');
    });
    es.onerror = () => {
      st.info.connected = false;
      mark('header');
    };
  }

  // ---- live views --------------------------------------------------------------------------
  var CLOSE_REASONS = { 4003: 'too many live views', 4004: 'unknown camera', 1001: 'console closing' };

  function openView(id) {
    if (views[id]) return;
    var panel = h('div', 'view');
    panel.id = 'live-' + id;
    var bar = h('div', 'bar');
    bar.appendChild(h('b', null, 'camera ' + id));
    var close = h('button', null, 'close');
    bar.appendChild(close);
    panel.appendChild(bar);
    var screen = h('div', 'screen');
    var video = h('canvas', 'video');
    var overlay = h('canvas', 'overlay');
    screen.appendChild(video);
    screen.appendChild(overlay);
    panel.appendChild(screen);
    var note = h('div', 'note', 'connecting…');
    panel.appendChild(note);
    $('live').appendChild(panel);

    var ws = new WebSocket(
      (location.protocol === 'https:' ? 'wss://' : 'ws://') +
        location.host +
        '/live/' +
        encodeURIComponent(id),
    );
    var frames = 0;
    // The old jsmpeg API: it takes the socket, reads the 8-byte "jsmp" header, then MPEG-1.
    // 2D canvas: the page (and the test) can read its pixels; WebGL would need preserveDrawingBuffer.
    var player = new jsmpeg(ws, {
      canvas: video,
      forceCanvas2D: true,
      ondecodeframe: () => {
        frames++;
        if (frames === 1) note.textContent = 'live';
        video.dataset.frames = String(frames);
      },
    });
    ws.addEventListener('close', (e) => {
      note.textContent =
        'stopped: ' + (e.reason || CLOSE_REASONS[e.code] || 'connection closed (' + e.code + ')');
      panel.classList.add('closed');
    });
    var view = { ws: ws, panel: panel, video: video, overlay: overlay, player: player };
    views[id] = view;
    close.onclick = () => {
      ws.close();
      panel.remove();
      delete views[id];
      mark('tiles');
    };
    mark('tiles');
  }

  function masksOf(id) {
    var own = st.info.masks?.[id] || [];
    var cam = st.catalog.cameras.find((c) => c.id === id);
    return own.concat(cam?.masks || []);
  }

  // Face boxes over every open view, from the active events of its camera.
  function drawOverlays() {
    var now = Date.now();
    for (var id in views) {
      var v = views[id];
      var W = v.video.width || 640,
        H = v.video.height || 360;
      if (v.overlay.width !== W) v.overlay.width = W;
      if (v.overlay.height !== H) v.overlay.height = H;
      var g = v.overlay.getContext('2d');
      g.clearRect(0, 0, W, H);
      // Privacy masks: the server already blanked these pixels; the outline says why they are black.
      var masks = masksOf(id);
      v.overlay.dataset.masks = String(masks.length);
      g.lineWidth = 2;
      g.setLineDash([6, 4]);
      g.strokeStyle = '#ff6b6b';
      masks.forEach((poly) => {
        g.beginPath();
        g.moveTo(poly[0][0] * W, poly[0][1] * H);
        for (let k = 1; k < poly.length; k++) g.lineTo(poly[k][0] * W, poly[k][1] * H);
        g.closePath();
        g.stroke();
      });
      g.lineWidth = 3;
      g.font = '16px system-ui, sans-serif';
      for (var e in st.active) {
        var a = st.active[e];
        if (a.ev.cameraId !== id || now - a.at > ACTIVE_TTL_MS) continue;
        var b = a.ev.box;
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
  $('camcount').addEventListener('input', function () {
    this.dataset.touched = '1';
  });
  $('simform').addEventListener('submit', (e) => {
    e.preventDefault();
    var n = Number($('camcount').value);
    $('simnote').textContent = 'sending…';
    fetch('/api/simulator', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cameras: n }),
    })
      .then((r) => r.json().then((b) => ({ ok: r.ok, body: b })))
      .then((r) => {
        $('simnote').textContent = r.ok ? 'asked for ' + r.body.cameras : r.body.error;
        delete $('camcount').dataset.touched;
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
