/*
 * fieldsync HQ dashboard. Plain JavaScript, no library, nothing loaded from
 * the network: every page reads its JSON twin under /admin/api/ and draws
 * itself. State-changing requests carry the session's CSRF token.
 *
 * For tests and people alike: when a page has drawn, <body> gets
 * data-ready="1" (data-error="..." if it could not), and every table has
 * data-rows (rows shown) and data-total (rows before filtering).
 */
'use strict';
(function () {
	const page = location.pathname.replace(/^\/admin\/?/, '').replace(/\/$/, '');
	const main = document.getElementById('main');
	let me = null;

	/* ---- DOM helpers ---- */
	function h(tag, attrs, ...kids) {
		const el = document.createElement(tag);
		setAttrs(el, attrs);
		append(el, kids);
		return el;
	}
	function svg(tag, attrs, ...kids) {
		const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
		setAttrs(el, attrs);
		append(el, kids);
		return el;
	}
	function setAttrs(el, attrs) {
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === null || v === undefined || v === false)
				continue;
			if (k === 'text')
				el.textContent = v;
			else if (k.startsWith('on'))
				el.addEventListener(k.slice(2), v);
			else
				el.setAttribute(k, v === true ? '' : String(v));
		}
	}
	function append(el, kids) {
		for (const k of kids.flat(Infinity)) {
			if (k === null || k === undefined || k === false)
				continue;
			el.appendChild(k instanceof Node ? k : document.createTextNode(String(k)));
		}
	}
	function clear(el) {
		while (el.firstChild)
			el.removeChild(el.firstChild);
	}

	/* ---- formatting ---- */
	const pad = (n) => String(n).padStart(2, '0');
	function fmtTime(iso) {
		if (!iso)
			return '';
		const d = new Date(iso);
		if (isNaN(d))
			return iso;
		return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
	}
	function fmtAge(seconds) {
		if (seconds === null || seconds === undefined)
			return 'never';
		if (seconds < 90)
			return 'just now';
		if (seconds < 5400)
			return Math.round(seconds / 60) + ' min ago';
		if (seconds < 48 * 3600)
			return Math.round(seconds / 3600) + ' h ago';
		return Math.round(seconds / 86400) + ' days ago';
	}
	function fmtValue(v, type) {
		if (v === null || v === undefined || v === '')
			return '(empty)';
		if (type === 'money' && /^-?\d+$/.test(v)) {
			const n = Number(v);
			return (n / 100).toFixed(2);
		}
		return v;
	}
	function gradeBadge(g) {
		return h('span', { class: 'grade ' + (g || 'none'), text: g || '–' });
	}
	function pct(done, planned) {
		return planned ? Math.round((100 * done) / planned) : null;
	}
	function bar(done, planned) {
		const p = pct(done, planned);
		const b = h('div', { class: 'bar' + (p !== null && p < 60 ? ' low' : '') }, h('span'));
		b.firstChild.style.width = Math.min(100, p || 0) + '%';
		return b;
	}

	/* ---- the API ---- */
	async function api(path) {
		const r = await fetch('/admin/api/' + path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
		if (r.status === 401) {
			location.href = '/admin/login';
			throw new Error('not signed in');
		}
		const j = await r.json().catch(() => ({}));
		if (!r.ok)
			throw new Error(j.message || 'HTTP ' + r.status);
		return j;
	}
	async function post(path, body) {
		const r = await fetch(path, {
			method: 'POST',
			credentials: 'same-origin',
			headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me ? me.csrf : '' },
			body: JSON.stringify(body || {}),
		});
		const j = await r.json().catch(() => ({}));
		if (r.status === 401)
			location.href = '/admin/login';
		if (!r.ok)
			throw new Error(j.message || 'HTTP ' + r.status);
		return j;
	}

	/* ---- a sortable, filterable table ---- */
	const MAX_ROWS = 1000;
	function dataTable(o) {
		const cols = o.columns;
		const search = h('input', { type: 'search', placeholder: 'Filter…', id: o.id + '-filter', 'aria-label': 'filter rows' });
		const count = h('span', { class: 'count', id: o.id + '-count' });
		const selects = (o.filters || []).map((f) => {
			const s = h('select', { id: o.id + '-' + f.key, 'aria-label': f.label },
				h('option', { value: '', text: f.label + ': all' }),
				f.options.map((v) => h('option', { value: v, text: f.label + ': ' + (f.names ? f.names[v] || v : v) })));
			if (f.value !== undefined)
				s.value = f.value;
			s.addEventListener('change', render);
			return { f, s };
		});
		const table = h('table', { id: o.id, class: 'data' });
		const thead = h('thead');
		const tbody = h('tbody');
		let sortCol = o.sort !== undefined ? o.sort : -1;
		let dir = o.sortDir || 1;
		const ths = cols.map((c, i) => {
			const th = h('th', { class: c.num ? 'num' : null, scope: 'col', title: c.title || null, text: c.label });
			th.addEventListener('click', () => {
				dir = sortCol === i ? -dir : 1;
				sortCol = i;
				render();
			});
			return th;
		});
		thead.appendChild(h('tr', null, ths));
		table.appendChild(thead);
		table.appendChild(tbody);
		if (o.foot)
			table.appendChild(h('tfoot', null, h('tr', null, cols.map((c) => h('td', { class: c.num ? 'num' : null }, o.foot(c) ?? '')))));
		const more = h('div', { class: 'more' });
		search.addEventListener('input', render);

		const sortVal = (c, r) => (c.sort ? c.sort(r) : c.value ? c.value(r) : r[c.key]);
		const textVal = (c, r) => {
			const v = c.value ? c.value(r) : r[c.key];
			return v === null || v === undefined ? '' : String(v);
		};
		function render() {
			const q = search.value.trim().toLowerCase();
			let rows = o.rows.filter((r) => selects.every(({ f, s }) => !s.value || f.match(r, s.value)));
			if (q)
				rows = rows.filter((r) => cols.some((c) => textVal(c, r).toLowerCase().includes(q)));
			if (sortCol >= 0) {
				const c = cols[sortCol];
				rows = rows.slice().sort((a, b) => {
					const x = sortVal(c, a), y = sortVal(c, b);
					const nx = x === null || x === undefined || x === '', ny = y === null || y === undefined || y === '';
					if (nx || ny)
						return nx === ny ? 0 : nx ? 1 : -1;	/* empty last, both ways */
					if (typeof x === 'number' && typeof y === 'number')
						return (x - y) * dir;
					return String(x).localeCompare(String(y)) * dir;
				});
			}
			ths.forEach((th, i) => th.setAttribute('aria-sort', i === sortCol ? (dir > 0 ? 'ascending' : 'descending') : 'none'));
			clear(tbody);
			for (const r of rows.slice(0, MAX_ROWS)) {
				const tr = h('tr', { class: o.rowClass ? o.rowClass(r) : null });
				for (const c of cols) {
					const v = c.render ? c.render(r) : textVal(c, r);
					tr.appendChild(h('td', { class: [c.num ? 'num' : '', c.cls || ''].join(' ').trim() || null }, v));
				}
				tbody.appendChild(tr);
			}
			if (!rows.length)
				tbody.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: cols.length, class: 'small', text: o.empty || 'Nothing here.' })));
			more.textContent = rows.length > MAX_ROWS ? `Showing ${MAX_ROWS} of ${rows.length} rows: filter to narrow.` : '';
			table.dataset.rows = rows.length;
			table.dataset.total = o.rows.length;
			count.textContent = rows.length === o.rows.length ? `${rows.length} rows` : `${rows.length} of ${o.rows.length} rows`;
		}
		render();
		return h('div', null, h('div', { class: 'toolbar' }, search, selects.map((x) => x.s), o.tools || null, count),
			h('div', { class: 'table-wrap' }, table, more));
	}
	const uniq = (xs) => [...new Set(xs.filter((x) => x !== null && x !== undefined && x !== ''))].sort();

	/* ---- the map: SVG from customer coordinates, no tiles ---- */
	const GRADE_COLOR = { VIP: '#7b3fa0', A: '#2e8540', B: '#2f6fb5', C: '#8a8f98' };
	function drawMap(data, opt) {
		const W = opt.width, H = opt.height, P = opt.mini ? 14 : 36;
		const pts = data.customers.filter((c) => c.lat !== null && c.lon !== null);
		const stops = data.route.filter((s) => s.lat !== null && s.lon !== null);
		const root = svg('svg', {
			viewBox: `0 0 ${W} ${H}`, role: 'img', id: opt.id || null,
			'aria-label': `map of ${data.territory}: ${pts.length} customers, ${stops.length} stops`,
			'data-customers': pts.length, 'data-stops': stops.length,
		});
		root.appendChild(svg('rect', { x: 0, y: 0, width: W, height: H, fill: '#fbfcfd' }));
		if (!pts.length && !stops.length) {
			root.appendChild(svg('text', { x: W / 2, y: H / 2, class: 'nodata', text: 'no customer has a position' }));
			return root;
		}
		const all = pts.concat(stops);
		let minLat = Math.min(...all.map((p) => p.lat)), maxLat = Math.max(...all.map((p) => p.lat));
		let minLon = Math.min(...all.map((p) => p.lon)), maxLon = Math.max(...all.map((p) => p.lon));
		const kx = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
		const spanX = Math.max((maxLon - minLon) * kx, 0.005), spanY = Math.max(maxLat - minLat, 0.005);
		const scale = Math.min((W - 2 * P) / spanX, (H - 2 * P - (opt.mini ? 0 : 24)) / spanY);
		const ox = (W - spanX * scale) / 2, oy = (H - (opt.mini ? 0 : 24) - spanY * scale) / 2;
		const X = (lon) => ox + ((lon - minLon) * kx + (spanX - (maxLon - minLon) * kx) / 2) * scale;
		const Y = (lat) => oy + ((maxLat - lat) + (spanY - (maxLat - minLat)) / 2) * scale;

		/* a light grid every 0.05 degrees (or coarser) */
		if (!opt.mini) {
			const g = svg('g', { stroke: '#eceff3', 'stroke-width': 1 });
			const step = spanY > 0.6 ? 0.2 : spanY > 0.25 ? 0.1 : 0.05;
			for (let la = Math.ceil(minLat / step) * step; la <= maxLat; la += step)
				g.appendChild(svg('line', { x1: 0, x2: W, y1: Y(la), y2: Y(la) }));
			for (let lo = Math.ceil(minLon / step) * step; lo <= maxLon; lo += step)
				g.appendChild(svg('line', { y1: 0, y2: H, x1: X(lo), x2: X(lo) }));
			root.appendChild(g);
		}
		const cg = svg('g', { class: 'customers' });
		for (const c of pts) {
			const r = opt.mini ? 3 : c.grade === 'VIP' || c.grade === 'A' ? 5.5 : 4.5;
			cg.appendChild(svg('circle', {
				class: 'cust' + (c.overdue ? ' overdue' : '') + (opt.mini ? ' mini' : ''), cx: X(c.lon).toFixed(1), cy: Y(c.lat).toFixed(1), r,
				fill: GRADE_COLOR[c.grade] || '#c3c8cf', 'data-id': c.id,
			}, svg('title', { text: `${c.name}${c.code ? ' (' + c.code + ')' : ''} · grade ${c.grade || 'none'} · last visit ${c.last_visit || 'never'}${c.overdue ? ' · OVERDUE' : ''}` })));
		}
		root.appendChild(cg);
		if (stops.length) {
			root.appendChild(svg('polyline', { class: 'route', points: stops.map((s) => `${X(s.lon).toFixed(1)},${Y(s.lat).toFixed(1)}`).join(' ') }));
			const sg = svg('g', { class: 'stops' });
			stops.forEach((s, i) => {
				const n = s.route_seq !== null ? s.route_seq : i + 1;
				sg.appendChild(svg('g', { class: 'stop ' + s.status, transform: `translate(${X(s.lon).toFixed(1)},${Y(s.lat).toFixed(1)})` },
					svg('circle', { r: opt.mini ? 4 : 9 }),
					opt.mini ? null : svg('text', { text: n }),
					svg('title', { text: `${n}. ${s.planned_time || ''} ${s.name} (${s.status})` })));
			});
			root.appendChild(sg);
		}
		if (!opt.mini) {
			/* scale bar: a round number of km near a fifth of the width */
			const pxPerKm = scale / 111.32;
			const nice = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500];
			const km = nice.find((k) => k * pxPerKm > W / 6) || 500;
			const sx = 16, sy = H - 14;
			root.appendChild(svg('g', { class: 'scale' },
				svg('line', { x1: sx, x2: sx + km * pxPerKm, y1: sy, y2: sy }),
				svg('line', { x1: sx, x2: sx, y1: sy - 4, y2: sy + 4 }),
				svg('line', { x1: sx + km * pxPerKm, x2: sx + km * pxPerKm, y1: sy - 4, y2: sy + 4 }),
				svg('text', { x: sx + km * pxPerKm + 6, y: sy + 4, text: km + ' km' })));
			const lg = svg('g', { class: 'legend', transform: `translate(${W - 330},${H - 14})` });
			let x = 0;
			for (const [g, col] of Object.entries(GRADE_COLOR).concat([['none', '#c3c8cf']])) {
				lg.appendChild(svg('circle', { cx: x, cy: -4, r: 5, fill: col }));
				lg.appendChild(svg('text', { x: x + 8, y: 0, text: g }));
				x += g.length * 7 + 24;
			}
			lg.appendChild(svg('circle', { cx: x, cy: -4, r: 5, fill: '#fff', stroke: '#c0392b', 'stroke-width': 2 }));
			lg.appendChild(svg('text', { x: x + 8, y: 0, text: 'overdue' }));
			root.appendChild(lg);
		}
		return root;
	}

	/* ---- pages ---- */
	function heading(title, lead) {
		return [h('h1', { text: title }), lead ? h('p', { class: 'lead' }, lead) : null];
	}
	function flashBox() {
		return h('div', { class: 'flash', id: 'flash', role: 'status' });
	}
	function flash(msg, bad) {
		const f = document.getElementById('flash');
		if (f) {
			f.textContent = msg;
			f.className = 'flash' + (bad ? ' bad' : '');
		}
	}
	function tile(id, label, value, sub, href, cls) {
		return h('a', { class: 'tile ' + (cls || ''), href, id: 'tile-' + id, 'data-value': value },
			h('div', { class: 'label', text: label }), h('div', { class: 'value', text: value }), h('div', { class: 'sub' }, sub));
	}

	async function overview() {
		const s = await api('summary');
		const d = s.devices, v = s.visits || { planned: 0, done: 0 };
		const p = pct(v.done, v.planned);
		const tiles = h('div', { class: 'tiles' },
			tile('synced', 'Devices synced in the last 24 h', `${d.synced_24h} / ${d.active}`,
				d.not_synced_24h ? `${d.not_synced_24h} not synced in 24 h (${d.never_synced} never)` : 'every active device', '/admin/devices',
				d.not_synced_24h ? 'alert' : 'good'),
			tile('quarantine', 'Waiting in quarantine', s.quarantine.pending, 'writes HQ refused, to decide', '/admin/quarantine',
				s.quarantine.pending ? 'alert' : 'good'),
			tile('conflicts', 'Open conflicts', s.conflicts.open, 'same field changed in two places', '/admin/conflicts',
				s.conflicts.open ? 'alert' : 'good'),
			tile('visits', `Visits done in ${v.month}`, `${v.done} / ${v.planned}`,
				[p === null ? 'nothing planned' : `${p} % of the plan`, bar(v.done, v.planned)], '/admin/visits?month=' + v.month),
			tile('overdue', 'Overdue customers', s.customers.overdue, `of ${s.customers.customers}, by grade interval`,
				'/admin/customers?overdue=1', s.customers.overdue ? 'bad' : 'good'));
		const cards = h('div', { class: 'cards', id: 'territories' });
		const devs = await api('devices');
		const dt = h('table', { class: 'data', id: 'overview-devices' },
			h('thead', null, h('tr', null, ['Rep', 'Device', 'Last successful sync', 'Pending'].map((t, i) => h('th', { class: i === 3 ? 'num' : null, text: t })))),
			h('tbody', null, devs.rows.filter((r) => !r.revoked).map((r) => h('tr', { class: r.synced_24h ? 'fresh' : 'stale' },
				h('td', { text: r.rep }), h('td', { text: r.name || r.id.slice(0, 8) }),
				h('td', { class: 'sync', text: r.last_sync ? `${fmtTime(r.last_sync)} (${fmtAge(r.sync_age_s)})` : 'never' }),
				h('td', { class: 'num', text: r.pending ?? '' })))));
		clear(main);
		main.append(...heading('Overview', `HQ ${me.hq_id.slice(0, 8)} · ${s.date}`), tiles,
			h('div', { class: 'overview-grid' },
				h('section', null, h('h2', { text: 'Territories' }), cards),
				h('section', null, h('h2', { text: 'Devices' }), h('div', { class: 'table-wrap' }, dt))));
		const shown = s.territories.slice(0, 6);
		const maps = await Promise.all(shown.map((t) => api('map?territory=' + encodeURIComponent(t.territory) + '&date=' + s.date).catch(() => null)));
		shown.forEach((t, i) => {
			cards.appendChild(h('a', { class: 'card tile', href: '/admin/map?territory=' + encodeURIComponent(t.territory), 'data-territory': t.territory },
				h('h3', { text: t.territory }),
				h('div', { class: 'meta', text: `${t.customers} customers · ${t.overdue} overdue · ${t.planned_today} stops today · reps: ${t.reps || 'none'}` }),
				maps[i] ? drawMap(maps[i], { width: 320, height: 190, mini: true }) : null));
		});
		if (s.territories.length > shown.length)
			cards.appendChild(h('p', { class: 'small', text: `and ${s.territories.length - shown.length} more on the map page` }));
	}

	async function devices() {
		const d = await api('devices');
		const s = d.summary;
		clear(main);
		main.append(...heading('Devices', `${s.synced_24h} of ${s.active} active devices synced in the last 24 hours; ${s.pending} pushes pending; ${s.revoked} revoked.`),
			dataTable({
				id: 'devices', rows: d.rows, sort: 0,
				rowClass: (r) => (r.revoked ? 'revoked' : r.synced_24h ? 'fresh' : 'stale'),
				filters: [
					{ key: 'rep', label: 'Rep', options: uniq(d.rows.map((r) => r.rep)), match: (r, v) => r.rep === v },
					{ key: 'state', label: 'State', options: ['synced', 'stale', 'revoked'],
					  names: { synced: 'synced in 24 h', stale: 'not synced in 24 h', revoked: 'revoked' },
					  match: (r, v) => (v === 'revoked' ? r.revoked : !r.revoked && (v === 'synced') === r.synced_24h) },
				],
				columns: [
					{ key: 'rep', label: 'Rep' },
					{ key: 'territories', label: 'Territories' },
					{ key: 'name', label: 'Device', render: (r) => [r.name || '(unnamed)', h('div', { class: 'small', text: r.id.slice(0, 8) })] },
					{ key: 'last_sync', label: 'Last successful sync', cls: 'sync', sort: (r) => r.last_sync,
					  render: (r) => [fmtTime(r.last_sync) || 'never', h('div', { class: 'small', text: fmtAge(r.sync_age_s) })] },
					{ key: 'last_seen', label: 'Last seen', value: (r) => fmtTime(r.last_seen) },
					{ key: 'pending', label: 'Pending pushes', num: true },
					{ key: 'app_version', label: 'App version' },
					{ key: 'revoked', label: 'Status', value: (r) => (r.revoked ? 'revoked' : 'active') },
				],
			}));
	}

	async function quarantine() {
		const d = await api('quarantine');
		const s = d.summary;
		async function decide(r, decision, btn) {
			btn.disabled = true;
			try {
				const res = await post('/admin/api/quarantine/decide', { device: r.device, tbl: r.tbl, rec_id: r.rec_id, vv: r.vv, decision, ...(decision === 'accept' && r.into ? { territory: r.into } : {}) });
				await quarantine();
				flash(`${r.label}: ${res.decision}` + (res.territory ? ` (now in ${res.territory}; it syncs to that territory's devices)` : ''));
			} catch (e) {
				flash(`${r.label}: ${e.message}`, true);
				btn.disabled = false;
			}
		}
		const details = (r) => h('details', { class: 'rec' }, h('summary', { text: r.label }),
			h('dl', null, Object.entries(r.fields || {}).map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v === null ? '(cleared)' : String(v) })])));
		clear(main);
		main.append(...heading('Quarantine', `Writes HQ refused: ${s.pending} waiting for a decision, ${s.accepted} accepted, ${s.discarded} discarded. ` +
			'Accepting merges the record at HQ as a new version that syncs to the devices of its territory; both decisions are logged.'),
			flashBox(),
			dataTable({
				id: 'quarantine', rows: d.rows,
				rowClass: (r) => (r.state === 'pending' ? 'pending' : 'decided'),
				filters: [
					{ key: 'state', label: 'State', options: ['pending', 'accepted', 'discarded'], value: 'pending', match: (r, v) => r.state === v },
					{ key: 'rep', label: 'Rep', options: uniq(d.rows.map((r) => r.rep)), match: (r, v) => r.rep === v },
				],
				empty: 'Nothing waiting.',
				columns: [
					{ key: 'at', label: 'Refused at', value: (r) => fmtTime(r.at), sort: (r) => r.at },
					{ key: 'rep', label: 'Rep', render: (r) => [r.rep || '?', h('div', { class: 'small', text: r.device_name || r.device.slice(0, 8) })] },
					{ key: 'label', label: 'Record', render: details },
					{ key: 'tbl', label: 'Table' },
					{ key: 'reason', label: 'Reason' },
					{ key: 'decision', label: 'Decision', value: (r) => r.decision || 'pending',
					  render: (r) => (r.state !== 'pending' ? h('span', { class: 'pill ' + r.state, text: r.decision }) : [
						  h('button', { class: 'act', type: 'button', 'data-act': 'accept', onclick: (e) => decide(r, 'accept', e.target), text: r.into ? `Accept into ${r.into}` : 'Accept as is' }),
						  h('button', { class: 'act danger', type: 'button', 'data-act': 'discard', onclick: (e) => decide(r, 'discard', e.target), text: 'Discard' }),
					  ]) },
				],
			}));
	}

	async function conflicts() {
		const d = await api('conflicts?all=1');
		async function resolve(r, keep, btn) {
			btn.disabled = true;
			try {
				await post('/admin/api/conflicts/resolve', { id: r.id, keep });
				await conflicts();
				flash(`${r.customer || r.record.slice(0, 8)} · ${r.field}: kept ${keep === 'other' ? fmtValue(r.other, r.type) : fmtValue(r.current, r.type)}. ` +
					'The devices get it on their next sync.');
			} catch (e) {
				flash(e.message, true);
				btn.disabled = false;
			}
		}
		const side = (r, which) => {
			const v = which === 'other' ? r.other : r.current;
			const by = which === 'other' ? r.other_by : r.current_by, at = which === 'other' ? r.other_at : r.current_at;
			return [h('div', { class: 'v', text: fmtValue(v, r.type) }), h('div', { class: 'small', text: [by, fmtTime(at)].filter(Boolean).join(' · ') }),
				r.status === 'open' ? h('button', { class: 'act', type: 'button', 'data-keep': which, onclick: (e) => resolve(r, which, e.target), text: 'Keep this' }) : null];
		};
		const open = d.rows.filter((r) => r.status === 'open').length;
		clear(main);
		main.append(...heading('Conflicts', `${open} open. The same field was changed in two places; the current value is shown everywhere, ` +
			'the other one is kept here. Keeping one is a versioned write that syncs to every device, as with the CLI.'),
			flashBox(),
			dataTable({
				id: 'conflicts', rows: d.rows,
				filters: [
					{ key: 'status', label: 'Status', options: uniq(d.rows.map((r) => r.status).concat(['open'])), value: 'open', match: (r, v) => r.status === v },
					{ key: 'territory', label: 'Territory', options: uniq(d.rows.map((r) => r.territory)), match: (r, v) => r.territory === v },
				],
				empty: 'No conflict to resolve.',
				columns: [
					{ key: 'customer', label: 'Customer', render: (r) => [r.customer || '(unknown)', h('div', { class: 'small', text: [r.code, r.territory].filter(Boolean).join(' · ') })] },
					{ key: 'field', label: 'Field', render: (r) => [r.field, h('div', { class: 'small', text: `${r.table} ${r.record.slice(0, 8)}` })] },
					{ key: 'current', label: 'Current value', cls: 'value', render: (r) => side(r, 'current') },
					{ key: 'other', label: 'Other value', cls: 'value', render: (r) => side(r, 'other') },
					{ key: 'status', label: 'Status', render: (r) => [h('span', { class: 'pill ' + r.status, text: r.status }), r.resolution ? h('div', { class: 'small', text: r.resolution }) : null] },
				],
			}));
	}

	async function visits() {
		const params = new URLSearchParams(location.search);
		const month = params.get('month') || (me.today || '').slice(0, 7);
		const d = await api('visits?month=' + encodeURIComponent(month));
		const input = h('input', { type: 'month', id: 'month', value: d.month, 'aria-label': 'month' });
		input.addEventListener('change', () => {
			if (!input.value)
				return;
			history.replaceState(null, '', '/admin/visits?month=' + input.value);
			run(visits);
		});
		const dm = (iso) => iso.slice(8, 10) + '.' + iso.slice(5, 7);
		const cell = (n) => [h('span', { text: `${n.done} / ${n.planned}` }), bar(n.done, n.planned)];
		const cols = [
			{ key: 'rep', label: 'Rep', value: (r) => (r.active || r.rep === 'unknown' || r.rep === 'HQ' ? r.rep : `${r.rep} (inactive)`) },
			{ key: 'territories', label: 'Territories' },
		];
		d.weeks.forEach((w, i) => cols.push({
			key: 'w' + i, label: `${w.week.slice(5)}\n${dm(w.from)}–${dm(w.to)}`, num: true,
			title: 'done / planned', value: (r) => r.weeks[i].done, render: (r) => cell(r.weeks[i]),
		}));
		cols.push({ key: 'total', label: 'Month\ndone / planned', num: true, value: (r) => r.total.done, render: (r) => cell(r.total) },
			{ key: 'pct', label: '% done', num: true, value: (r) => pct(r.total.done, r.total.planned) },
			{ key: 'missed', label: 'Missed', num: true, value: (r) => r.total.missed },
			{ key: 'cancelled', label: 'Cancelled', num: true, value: (r) => r.total.cancelled },
			{ key: 'open', label: 'Still planned', num: true, value: (r) => r.total.open });
		const t = d.total;
		const foot = (c) => {
			if (c.key === 'rep')
				return 'All territories';
			const m = /^w(\d+)$/.exec(c.key);
			if (m)
				return `${t.weeks[m[1]].done} / ${t.weeks[m[1]].planned}`;
			return { total: `${t.total.done} / ${t.total.planned}`, pct: pct(t.total.done, t.total.planned), missed: t.total.missed,
				cancelled: t.total.cancelled, open: t.total.open }[c.key];
		};
		clear(main);
		main.append(...heading('Visits: planned vs done', `${d.month}: ${t.total.done} of ${t.total.planned} planned visits done (${pct(t.total.done, t.total.planned) ?? 0} %). ` +
			'Planned: every visit planned for a day of the week (whatever became of it); done: those reported done. A rep\u2019s visits are those the rep logged, and the plans still open that were made for the rep; \u201cunknown\u201d: visits HQ stored before it kept authors.'),
			dataTable({ id: 'visits', rows: d.rows, columns: cols, foot, tools: input, sort: 0 }));
		main.querySelector('#visits').dataset.planned = t.total.planned;
		main.querySelector('#visits').dataset.done = t.total.done;
	}

	async function customers() {
		const params = new URLSearchParams(location.search);
		const d = await api('customers');
		const grades = ['VIP', 'A', 'B', 'C', 'none'];
		const matrix = h('table', { class: 'data', id: 'matrix' },
			h('thead', null, h('tr', null, h('th', { text: 'Territory' }), grades.map((g) => h('th', { class: 'num', text: g === 'none' ? 'no grade' : g })),
				h('th', { class: 'num', text: 'Total' }))),
			h('tbody', null, d.matrix.map((m) => h('tr', { 'data-territory': m.territory }, h('td', { text: m.territory }),
				grades.map((g) => h('td', { class: 'num' }, m.grades[g].customers ? [String(m.grades[g].customers),
					m.grades[g].overdue ? h('div', { class: 'small', text: `${m.grades[g].overdue} overdue` }) : null] : '·')),
				h('td', { class: 'num' }, [String(m.customers), h('div', { class: 'small', text: `${m.overdue} overdue` })])))));
		clear(main);
		main.append(...heading('Customers', `${d.summary.customers} customers, ${d.summary.overdue} overdue on ${d.date}. Overdue: never visited, or the last done visit is older than the grade\u2019s interval (` +
			Object.entries(d.intervals).map(([g, n]) => `${g} ${n} d`).join(', ') + ').'),
			h('h2', { text: 'By grade and territory' }), h('div', { class: 'table-wrap' }, matrix),
			h('h2', { text: 'Customers' }),
			dataTable({
				id: 'customers', rows: d.rows,
				rowClass: (r) => (r.overdue ? 'overdue' : null),
				filters: [
					{ key: 'territory', label: 'Territory', options: uniq(d.rows.map((r) => r.territory)), value: params.get('territory') || '', match: (r, v) => r.territory === v },
					{ key: 'grade', label: 'Grade', options: grades, value: params.get('grade') || '', match: (r, v) => (r.grade || 'none') === v },
					{ key: 'overdue', label: 'Visits', options: ['1', '0'], names: { 1: 'overdue', 0: 'up to date' }, value: params.get('overdue') || '',
					  match: (r, v) => r.overdue === (v === '1') },
				],
				columns: [
					{ key: 'code', label: 'Code' },
					{ key: 'name', label: 'Name' },
					{ key: 'territory', label: 'Territory' },
					{ key: 'grade', label: 'Grade', sort: (r) => grades.indexOf(r.grade || 'none'), render: (r) => gradeBadge(r.grade) },
					{ key: 'status', label: 'Status' },
					{ key: 'city', label: 'City' },
					{ key: 'owner_rep', label: 'Owner' },
					{ key: 'last_visit', label: 'Last done visit', value: (r) => r.last_visit || 'never', sort: (r) => r.last_visit },
					{ key: 'days_since', label: 'Days since', num: true },
					{ key: 'interval_days', label: 'Interval', num: true },
					{ key: 'overdue', label: 'Overdue', cls: 'flag', value: (r) => (r.overdue ? 'overdue' : '') },
				],
			}));
	}

	async function map() {
		const params = new URLSearchParams(location.search);
		const d = await api('map?territory=' + encodeURIComponent(params.get('territory') || '') + '&date=' + encodeURIComponent(params.get('date') || me.today));
		const sel = h('select', { id: 'territory', 'aria-label': 'territory' }, d.territories.map((t) => h('option', { value: t, text: t })));
		sel.value = d.territory;
		const date = h('input', { type: 'date', id: 'date', value: d.date, 'aria-label': 'date' });
		const go = () => {
			history.replaceState(null, '', `/admin/map?territory=${encodeURIComponent(sel.value)}&date=${date.value}`);
			run(map);
		};
		sel.addEventListener('change', go);
		date.addEventListener('change', go);
		const s = d.summary;
		const side = h('div', { class: 'side', id: 'route' },
			h('h3', { text: `Route on ${d.date}` }),
			d.route.length ? h('ol', null, d.route.map((r) => h('li', { class: r.status },
				`${r.planned_time || ''} ${r.name}`, r.purpose ? h('span', { class: 'small', text: ' · ' + r.purpose }) : null)))
				: h('p', { class: 'small', text: 'No visit planned in this territory on this day.' }),
			h('p', { class: 'small', text: `Reps: ${d.reps.join(', ') || 'none'}` }),
			h('p', { class: 'small', text: `${s.customers} customers, ${s.placed} with a position, ${s.overdue} overdue (red ring).` }));
		clear(main);
		main.append(...heading('Territory map', `${d.territory}: customers by grade from their coordinates, and the day\u2019s route in planned order. No map tiles: drawn here, offline.`),
			h('div', { class: 'toolbar' }, sel, date),
			h('div', { class: 'map-layout' }, h('div', { class: 'map-box' }, drawMap(d, { width: 900, height: 600, id: 'map-svg' })), side));
	}

	async function log() {
		const d = await api('log');
		clear(main);
		main.append(...heading('Decision log', 'Every quarantine decision and every conflict resolved from this dashboard, with who and when.'),
			dataTable({
				id: 'log', rows: d.rows, empty: 'No decision yet.',
				filters: [{ key: 'kind', label: 'Kind', options: uniq(d.rows.map((r) => r.kind)), match: (r, v) => r.kind === v }],
				columns: [
					{ key: 'at', label: 'When', value: (r) => fmtTime(r.at), sort: (r) => r.at },
					{ key: 'admin', label: 'Admin' },
					{ key: 'kind', label: 'Kind' },
					{ key: 'decision', label: 'Decision' },
					{ key: 'tbl', label: 'Record', value: (r) => `${r.tbl} ${r.rec_id.slice(0, 8)}` },
					{ key: 'detail', label: 'Detail' },
				],
			}));
	}

	const PAGES = { '': overview, devices, quarantine, conflicts, visits, customers, map, log };

	async function badges() {
		try {
			const s = await api('summary');
			document.getElementById('badge-quarantine').textContent = s.quarantine.pending || '';
			document.getElementById('badge-conflicts').textContent = s.conflicts.open || '';
		} catch (e) {
			/* the page itself reports errors */
		}
	}

	async function run(fn) {
		document.body.dataset.ready = '0';
		try {
			await fn();
			document.body.removeAttribute('data-error');
		} catch (e) {
			clear(main);
			main.appendChild(h('div', { class: 'error-box', text: 'Could not load this page: ' + e.message }));
			document.body.dataset.error = e.message;
		}
		await badges();
		document.body.dataset.ready = '1';
	}

	async function start() {
		for (const a of document.querySelectorAll('#nav a'))
			if (a.dataset.page === page)
				a.classList.add('current');
		document.body.dataset.page = page || 'overview';
		document.getElementById('logout').addEventListener('click', async () => {
			try {
				await post('/admin/logout');
			} finally {
				location.href = '/admin/login';
			}
		});
		try {
			me = await api('me');
		} catch (e) {
			document.body.dataset.error = e.message;
			return;
		}
		document.getElementById('who').textContent = me.admin;
		document.getElementById('footer').textContent = `fieldsync ${me.version} · HQ ${me.hq_id.slice(0, 8)} · data as of ${fmtTime(me.now)}`;
		const fn = PAGES[page];
		await run(fn || (async () => { throw new Error('no such page'); }));
	}
	start();
})();
