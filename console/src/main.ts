/**
 * The operations console (运营指挥中心): sign-in, live alerts over the SSE stream, alert
 * detail with acknowledge / resolve, KPI tiles against targets, the action plan's targets,
 * the district map and the freshness of the data. Everything it loads comes from the
 * service that serves it.
 */
import referenceJson from '../../src/simulator/huitian-district.json';
import { flash, soundAlarm, unlockSound } from './alarm.js';
import { renderAlertList, renderFilters, alertTitle } from './alerts-view.js';
import { Api, ApiError } from './api.js';
import { renderDetail } from './detail-view.js';
import type { ReferenceData } from './district-map.js';
import { byId, fill, h } from './dom.js';
import { CHECK_NAMES, named, t, type Lang } from './i18n.js';
import { drawSeries, renderTargets, renderTiles, seriesCaption, TILES, type TileSpec } from './kpi-view.js';
import { DistrictMap, mapNote } from './map-view.js';
import { initialState, newer, type Alert, type KpiAnswer, type KpiInfo, type PlanTarget, type State, type Status } from './state.js';
import { duration, localTime, setZone } from './time.js';

const ref = referenceJson as unknown as ReferenceData;
const TOKEN_KEY = 'huitian.console.token';
const LANG_KEY = 'huitian.console.lang';
const MUTE_KEY = 'huitian.console.muted';
const REFRESH_MS = 10_000;
const STATUS_MS = 5_000;
const MAX_ALERTS = 2000;

const state: State = initialState(localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh', localStorage.getItem(MUTE_KEY) === '1');
let api = new Api(sessionStorage.getItem(TOKEN_KEY));
let map: DistrictMap | null = null;
let source: EventSource | null = null;
let detailError: string | null = null;
let openSeries: TileSpec | null = null;
const extra = new Map<string, KpiAnswer>();
const timers: number[] = [];

const placeNames = new Map<string, string>([
  ...ref.waterloggingPoints.map((p): [string, string] => [p.id, p.name]),
  ...ref.parkingLots.map((p): [string, string] => [p.id, p.name]),
  ...ref.utilityLines.map((p): [string, string] => [p.id, p.name]),
]);

// --- drawing -------------------------------------------------------------------------

let frame = 0;
const drawn = { filters: '', detail: '' };
function redraw(): void {
  if (frame !== 0) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    draw();
  });
}

function districts(): string[] {
  const names = new Set(ref.districts.map((d) => d.name));
  for (const a of state.alerts.values()) if (a.district !== '' && a.district !== 'unknown') names.add(a.district);
  return [...names];
}

function draw(): void {
  const lang = state.lang;
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('appTitle', lang);
  for (const el of document.querySelectorAll<HTMLElement>('[data-word]')) el.textContent = t(el.dataset.word as Parameters<typeof t>[0], lang);
  byId('lang').textContent = lang === 'zh' ? 'EN' : '中文';
  byId('mute').textContent = state.muted ? t('unmute', lang) : t('mute', lang);
  byId('mute').setAttribute('aria-pressed', String(state.muted));
  drawWho();
  drawFreshness();
  // Filters and the detail are redrawn only when what they show changed: redrawing an open
  // select closes it, and redrawing the detail would drop a note being typed.
  const names = districts();
  const filtersKey = `${lang}|${names.join(',')}|${JSON.stringify(state.filters)}`;
  if (filtersKey !== drawn.filters) {
    drawn.filters = filtersKey;
    renderFilters(byId('filters'), state, names, (key, v) => {
      state.filters[key] = v;
      redraw();
    });
  }
  renderAlertList(byId('alert-list'), state, openAlert);
  const selected = state.selected === null ? undefined : state.alerts.get(state.selected);
  const detailKey = `${lang}|${state.selected}|${selected?.history.length}|${selected?.status}|${state.canOperate}|${detailError}`;
  if (detailKey !== drawn.detail) {
    drawn.detail = detailKey;
    renderDetail(byId('detail'), state, { close: closeAlert, act, placeOf }, detailError);
  }
  renderTiles(byId('tiles'), state, (spec) => void showSeries(spec), (id) => placeNames.get(id) ?? id);
  renderTargets(byId('targets'), state);
  byId('map-note').textContent = mapNote(lang);
  map?.draw(state, {
    depthByPoint: state.kpis.get('waterlogging_max_depth_cm'),
    occupancyByLot: extra.get('occupancyByLot'),
    coverageByStation: extra.get('coverageByStation'),
  });
}

function drawWho(): void {
  const lang = state.lang;
  const s = state.status;
  const who = byId('who');
  if (s === null) return fill(who);
  if (!s.auth) return fill(who, h('span', { class: 'role' }, t('authOff', lang)));
  fill(
    who,
    h('span', { class: 'name', 'data-testid': 'who' }, s.caller?.name ?? ''),
    h('span', { class: 'role' }, `${s.caller?.role ?? ''}${state.canOperate ? '' : ` · ${t('viewerOnly', lang)}`}`),
    h('button', { class: 'link', 'data-testid': 'sign-out', onclick: signOut }, t('signOut', lang)),
  );
}

function drawFreshness(): void {
  const lang = state.lang;
  const s = state.status;
  const el = byId('freshness');
  if (s === null) return fill(el);
  // In live mode a newest event older than 5 minutes means a source is behind or silent.
  const stale = s.timeMode === 'live' && s.lagSeconds !== null && s.lagSeconds > 300;
  const streamClass = state.stream === 'live' ? 'ok' : 'bad';
  fill(
    el,
    h('span', { class: 'fresh', 'data-testid': 'watermark' }, `${t('watermark', lang)} `, h('b', {}, localTime(s.watermark))),
    h('span', { class: `fresh ${stale ? 'bad' : ''}` }, `${t('lag', lang)} `, h('b', { 'data-testid': 'lag' }, duration(s.lagSeconds, lang))),
    h('span', { class: 'fresh' }, s.timeMode === 'live' ? t('liveMode', lang) : t('replayMode', lang)),
    h('span', { class: `fresh ${streamClass}`, 'data-testid': 'stream-state' }, `${t('stream', lang)} `, h('b', {}, state.stream === 'live' ? t('streamLive', lang) : state.stream === 'connecting' ? t('streamConnecting', lang) : t('streamDown', lang))),
    ...s.checks.map((c) =>
      h('span', { class: `fresh ${c.ready ? 'ok' : 'bad'}`, title: c.problem ?? '', 'data-testid': `check-${c.name}` }, `${named(CHECK_NAMES, c.name.split(':')[0]!, lang)} `, h('b', {}, c.ready ? t('ready', lang) : t('notReady', lang))),
    ),
  );
}

function placeOf(a: Alert): string | null {
  const id = a.entityId.split('/')[0]!;
  return placeNames.get(id) ?? null;
}

// --- alerts --------------------------------------------------------------------------

function upsert(a: Alert): Alert {
  const kept = newer(state.alerts.get(a.id), a);
  state.alerts.set(a.id, kept);
  return kept;
}

function openAlert(id: string): void {
  state.selected = id;
  state.unseenRed.delete(id);
  detailError = null;
  redraw();
  // The list may hold an older state than the stream has delivered; the detail asks.
  void api
    .get<Alert>(`/v1/alerts/${encodeURIComponent(id)}`)
    .then((a) => {
      upsert(a);
      redraw();
    })
    .catch(() => undefined);
}

function closeAlert(): void {
  state.selected = null;
  detailError = null;
  redraw();
}

async function act(kind: 'ack' | 'resolve', note: string): Promise<void> {
  const id = state.selected;
  if (id === null) return;
  try {
    const a = await api.post<Alert>(`/v1/alerts/${encodeURIComponent(id)}/${kind}`, note === '' ? {} : { note });
    upsert(a);
    detailError = null;
  } catch (err) {
    detailError = err instanceof Error ? err.message : String(err);
  }
  redraw();
}

function onTransition(action: string, a: Alert): void {
  const kept = upsert(a);
  if (kept === a && a.severity === 'red' && (action === 'opened' || action === 'escalated')) {
    state.unseenRed.add(a.id);
    flash(byId('banner'), `${t('newRed', state.lang)}：${alertTitle(a, state)}`);
    if (!state.muted) soundAlarm();
  }
  if (a.status === 'resolved') state.unseenRed.delete(a.id);
  forgetOldResolved();
  scheduleKpis();
  redraw();
}

function connectStream(): void {
  source?.close();
  state.stream = 'connecting';
  source = new EventSource(api.streamUrl());
  source.addEventListener('open', () => {
    state.stream = 'live';
    redraw();
  });
  source.addEventListener('error', () => {
    // EventSource reconnects by itself, resuming with Last-Event-ID.
    state.stream = 'reconnecting';
    redraw();
  });
  source.addEventListener('alert', (e) => {
    const { action, alert } = JSON.parse((e as MessageEvent<string>).data) as { action: string; alert: Alert };
    onTransition(action, alert);
  });
}

async function loadAlerts(): Promise<void> {
  // Every active alert (up to 500), and the most recent ones of any status for the resolved filter.
  const [active, recent] = await Promise.all([api.get<{ items: Alert[] }>('/v1/alerts?status=active&limit=500'), api.get<{ items: Alert[] }>('/v1/alerts?limit=200')]);
  for (const a of [...active.items, ...recent.items]) upsert(a);
  redraw();
}

/** A long shift resolves thousands of alerts: the oldest resolved ones leave the screen's memory. */
function forgetOldResolved(): void {
  if (state.alerts.size <= MAX_ALERTS) return;
  const resolved = [...state.alerts.values()].filter((a) => a.status === 'resolved' && a.id !== state.selected).sort((a, b) => Date.parse(a.updatedAt) - Date.parse(b.updatedAt));
  for (const a of resolved.slice(0, state.alerts.size - MAX_ALERTS)) state.alerts.delete(a.id);
}

// --- KPIs, targets, status -----------------------------------------------------------

async function loadKpis(): Promise<void> {
  const answers = await Promise.all(TILES.map((spec) => api.get<KpiAnswer>(`/v1/kpis/${spec.kpi}${spec.query === '' ? '' : `?${spec.query}`}`)));
  TILES.forEach((spec, i) => state.kpis.set(spec.kpi, answers[i]!));
  const [lots, stations, targets] = await Promise.all([
    api.get<KpiAnswer>('/v1/kpis/parking_occupancy_rate?groupBy=lot'),
    api.get<KpiAnswer>('/v1/kpis/fire_response_coverage_5min?groupBy=station'),
    api.get<{ items: PlanTarget[] }>('/v1/targets'),
  ]);
  extra.set('occupancyByLot', lots);
  extra.set('coverageByStation', stations);
  state.targets = targets.items;
  redraw();
}

let kpiTimer: number | undefined;
/** Alerts arrive in bursts; KPIs are reloaded once the burst has settled. */
function scheduleKpis(): void {
  if (kpiTimer !== undefined) return;
  kpiTimer = window.setTimeout(() => {
    kpiTimer = undefined;
    void loadKpis().catch(() => undefined);
  }, 1500);
}

async function loadStatus(): Promise<Status> {
  const s = await api.get<Status>('/v1/status');
  state.status = s;
  setZone(s.timeZone);
  state.canOperate = !s.auth || s.caller?.role === 'operator' || s.caller?.role === 'admin';
  redraw();
  return s;
}

async function showSeries(spec: TileSpec): Promise<void> {
  openSeries = spec;
  const info = state.catalogue.get(spec.kpi)!;
  const dialog = byId<HTMLDialogElement>('series');
  byId('series-title').textContent = state.lang === 'zh' ? info.title : info.titleEn;
  if (!dialog.open) dialog.showModal();
  const series = await api.get<{ unit: string; target: number | null; from: string; to: string; points: Array<{ at: string; value: number | null }> }>(`/v1/kpis/${spec.kpi}/series?${spec.series}`);
  if (openSeries !== spec) return;
  byId('series-caption').textContent = seriesCaption(series, state.lang);
  drawSeries(byId('series-chart'), info, series, state.lang);
}

// --- sign-in -------------------------------------------------------------------------

function showSignIn(message: string | null): void {
  const lang = state.lang;
  const input = h('input', { id: 'token', 'data-testid': 'token', type: 'password', autocomplete: 'off', required: true, minlength: 8 });
  fill(
    byId('signin'),
    h(
      'form',
      {
        class: 'signin',
        onsubmit: (e: Event) => {
          e.preventDefault();
          void signIn(input.value.trim());
        },
      },
      h('h1', {}, t('appTitle', lang)),
      h('h2', {}, t('signInTitle', lang)),
      h('p', {}, t('signInHint', lang)),
      h('label', {}, t('token', lang), input),
      h('button', { type: 'submit', 'data-testid': 'sign-in' }, t('signIn', lang)),
      message === null ? null : h('p', { class: 'error', role: 'alert', 'data-testid': 'signin-error' }, message),
    ),
  );
  byId('signin').hidden = false;
  byId('app').hidden = true;
  input.focus();
}

async function signIn(token: string): Promise<void> {
  api = new Api(token);
  try {
    await loadStatus();
  } catch (err) {
    api = new Api(null);
    showSignIn(err instanceof ApiError && err.status === 403 ? t('cannotRead', state.lang) : t('badToken', state.lang));
    return;
  }
  // The session only: closing the tab forgets the token.
  sessionStorage.setItem(TOKEN_KEY, token);
  await start();
}

function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  source?.close();
  source = null;
  for (const id of timers.splice(0)) window.clearInterval(id);
  api = new Api(null);
  state.alerts.clear();
  state.selected = null;
  showSignIn(null);
}

async function start(): Promise<void> {
  byId('signin').hidden = true;
  byId('app').hidden = false;
  const catalogue = await api.get<{ items: KpiInfo[] }>('/v1/kpis');
  state.catalogue = new Map(catalogue.items.map((k) => [k.name, k]));
  if (map === null) map = new DistrictMap(byId('map'), ref, openAlert);
  // The stream first, then the list: nothing committed in between is missed, and `newer`
  // keeps whichever state of an alert is the later one.
  connectStream();
  await Promise.all([loadAlerts(), loadKpis()]);
  timers.push(window.setInterval(() => void loadKpis().catch(() => undefined), REFRESH_MS));
  timers.push(window.setInterval(() => void loadStatus().catch(() => undefined), STATUS_MS));
  redraw();
}

// --- boot ----------------------------------------------------------------------------

function setLang(lang: Lang): void {
  state.lang = lang;
  localStorage.setItem(LANG_KEY, lang);
  if (!byId('signin').hidden) showSignIn(null);
  const dialog = byId<HTMLDialogElement>('series');
  if (dialog.open && openSeries !== null) void showSeries(openSeries);
  redraw();
}

async function boot(): Promise<void> {
  byId('lang').addEventListener('click', () => setLang(state.lang === 'zh' ? 'en' : 'zh'));
  byId('mute').addEventListener('click', () => {
    state.muted = !state.muted;
    localStorage.setItem(MUTE_KEY, state.muted ? '1' : '0');
    unlockSound();
    redraw();
  });
  byId('series-close').addEventListener('click', () => {
    openSeries = null;
    byId<HTMLDialogElement>('series').close();
  });
  document.addEventListener('click', unlockSound, { once: true });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.selected !== null) closeAlert();
  });
  try {
    await loadStatus();
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn(api.token === null ? null : err.status === 403 ? t('cannotRead', state.lang) : t('badToken', state.lang));
      return;
    }
    fill(byId('signin'), h('p', { class: 'error', role: 'alert' }, `${t('error', state.lang)}: ${(err as Error).message}`));
    byId('signin').hidden = false;
    return;
  }
  await start();
}

void boot();
