/**
 * The console's words, Chinese first (the operators read Chinese), English with one
 * switch. Alert titles and messages come from the service in both languages; this holds
 * everything else the screen says.
 */

export type Lang = 'zh' | 'en';

const WORDS = {
  appTitle: ['回天城市大脑 · 运营指挥中心', 'Huitian City Brain · Operations Centre'],
  signInTitle: ['登录', 'Sign in'],
  signInHint: ['请输入访问令牌（只保存在本浏览器会话中，关闭标签页即清除）。', 'Enter your access token (kept for this browser session only; closing the tab forgets it).'],
  token: ['访问令牌', 'Access token'],
  signIn: ['登录', 'Sign in'],
  signOut: ['退出', 'Sign out'],
  badToken: ['令牌无效。', 'The token is not valid.'],
  cannotRead: ['该令牌的角色不能查看（需要 viewer、operator 或 admin）。', "This token's role cannot read (viewer, operator or admin needed)."],
  authOff: ['未启用认证（仅本机）', 'Auth off (loopback only)'],
  viewerOnly: ['只读', 'read only'],
  alerts: ['实时告警', 'Live alerts'],
  map: ['回天地区', 'Huitian district'],
  mapNote: ['街道范围为示意：参考数据只有各街道中心点，按最近中心划分。', 'Street areas are schematic: the reference data holds only street centres; each area is what lies nearest its centre.'],
  kpis: ['指标与目标', 'KPIs against targets'],
  targets: ['行动计划目标（2030）', 'Action plan targets (2030)'],
  freshness: ['数据时效', 'Freshness'],
  watermark: ['事件时间水位', 'Watermark'],
  newest: ['最新事件', 'Newest event'],
  lag: ['滞后', 'Lag'],
  stream: ['告警推送', 'Alert stream'],
  streamLive: ['已连接', 'live'],
  streamConnecting: ['连接中', 'connecting'],
  streamDown: ['重连中', 'reconnecting'],
  ready: ['就绪', 'ready'],
  notReady: ['未就绪', 'not ready'],
  replayMode: ['回放模式', 'replay mode'],
  liveMode: ['实时模式', 'live mode'],
  all: ['全部', 'all'],
  severity: ['级别', 'Severity'],
  category: ['类别', 'Category'],
  district: ['街道', 'District'],
  status: ['状态', 'Status'],
  noAlerts: ['没有符合条件的告警。', 'No alerts match.'],
  detail: ['告警详情', 'Alert detail'],
  close: ['关闭', 'Close'],
  value: ['读数', 'Value'],
  threshold: ['阈值', 'Threshold'],
  peak: ['峰值', 'Peak'],
  place: ['位置', 'Place'],
  entity: ['对象', 'Entity'],
  openedAt: ['发生时间', 'Opened'],
  updatedAt: ['更新时间', 'Updated'],
  history: ['处置记录', 'History'],
  at: ['事件时间', 'Event time'],
  wallClock: ['操作时间', 'Done at'],
  action: ['动作', 'Action'],
  by: ['处置人', 'By'],
  note: ['备注', 'Note'],
  notePlaceholder: ['备注（可选），如：已派排水车', 'Note (optional), e.g. drainage truck sent'],
  acknowledge: ['确认', 'Acknowledge'],
  resolve: ['解除', 'Resolve'],
  mute: ['静音', 'Mute'],
  unmute: ['取消静音', 'Unmute'],
  target: ['目标', 'Target'],
  met: ['达标', 'met'],
  notMet: ['未达标', 'not met'],
  noData: ['暂无数据', 'no data'],
  notMeasured: ['本服务不测量', 'not measured here'],
  trailing24h: ['近 24 小时', 'trailing 24 h'],
  latestMinute: ['最近一分钟', 'latest minute'],
  series: ['滚动曲线', 'Rolling series'],
  deepestAt: ['最深点', 'deepest at'],
  normal: ['正常', 'normal'],
  stations: ['消防站', 'Fire stations'],
  points: ['积水点', 'Waterlogging points'],
  lots: ['停车场', 'Parking lots'],
  lines: ['地下管线', 'Utility lines'],
  incidents: ['超时警情', 'Overdue incidents'],
  error: ['出错了', 'Something went wrong'],
  newRed: ['新的红色预警', 'New red alert'],
} as const satisfies Record<string, readonly [string, string]>;

export type WordKey = keyof typeof WORDS;

export function t(key: WordKey, lang: Lang): string {
  return WORDS[key][lang === 'zh' ? 0 : 1];
}

export const SEVERITY_NAMES: Record<string, readonly [string, string]> = {
  red: ['红色', 'red'],
  orange: ['橙色', 'orange'],
  yellow: ['黄色', 'yellow'],
  blue: ['蓝色', 'blue'],
};

export const CATEGORY_NAMES: Record<string, readonly [string, string]> = {
  flood: ['积水', 'flood'],
  utility: ['管线', 'utility'],
  parking: ['停车', 'parking'],
  dispatch: ['消防救援', 'dispatch'],
  sensor: ['传感器', 'sensor'],
  kpi: ['指标', 'KPI'],
};

export const STATUS_NAMES: Record<string, readonly [string, string]> = {
  active: ['未解除', 'active'],
  open: ['待确认', 'open'],
  acknowledged: ['已确认', 'acknowledged'],
  resolved: ['已解除', 'resolved'],
};

export const ACTION_NAMES: Record<string, readonly [string, string]> = {
  opened: ['发生', 'opened'],
  escalated: ['升级', 'escalated'],
  acknowledged: ['确认', 'acknowledged'],
  resolved: ['解除', 'resolved'],
};

/** The service's readiness checks by name. */
export const CHECK_NAMES: Record<string, readonly [string, string]> = {
  store: ['存储', 'store'],
  influxdb: ['InfluxDB', 'InfluxDB'],
  kafka: ['Kafka', 'Kafka'],
  nats: ['NATS', 'NATS'],
};

export function named(table: Record<string, readonly [string, string]>, key: string, lang: Lang): string {
  const entry = table[key];
  return entry === undefined ? key : entry[lang === 'zh' ? 0 : 1];
}
