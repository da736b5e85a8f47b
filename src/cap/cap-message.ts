/**
 * An alert as an OASIS CAP 1.2 message in the shape of GB/T 35965.1-2018 (应急信息交互协议
 * 第1部分：预警信息): identifier `issuer_time_N`, `sent` in Beijing time, one `info` in
 * zh-CN and one in en-US. One message per stored version of the alert: the first is an
 * Alert, a resolution a Cancel, every other change an Update referencing the message
 * before it. The mapping table is in the README; schemas/cap/CAP-v1.2.xsd is the schema
 * the tests validate every message against. Pure: identifiers are given by the store.
 */
import { CAP_SEVERITY, SEVERITY_LEVEL, SEVERITY_ZH, versionOf, type Alert, type AlertCategory } from '../alerts/alert.js';
import type { CapConfig } from '../notifications/notifications-config.js';
import { beijingCapTime } from './identifier.js';

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';

export interface CapRef {
  identifier: string;
  /** epoch ms, whole seconds */
  sent: number;
}

export interface CapContext {
  config: CapConfig;
  status: CapConfig['status'];
  /** This version's message. */
  message: CapRef;
  /** The message of the version before, for `references`. */
  previous: CapRef | null;
}

interface CategoryText {
  cap: string[];
  event: string;
  eventEn: string;
  instruction: string;
  instructionEn: string;
  responseType: string;
}

/** CAP categories and the event and instruction wording per alert category. */
export const CAP_CATEGORY: Record<AlertCategory, CategoryText> = {
  flood: {
    cap: ['Met', 'Transport'],
    event: '道路积水',
    eventEn: 'Road waterlogging',
    instruction: '请绕行积水路段，切勿涉水行车或步行；相关单位立即开展排水与交通管制。',
    instructionEn: 'Avoid the flooded road; do not drive or walk through water. Drainage and traffic control are to be dispatched.',
    responseType: 'Avoid',
  },
  utility: {
    cap: ['Infra', 'Safety'],
    event: '地下管线异常',
    eventEn: 'Underground utility line fault',
    instruction: '请远离相关区域，勿使用明火；管线权属单位立即排查处置。',
    instructionEn: 'Keep away from the area and avoid open flames; the line operator is to inspect and make safe.',
    responseType: 'Avoid',
  },
  parking: {
    cap: ['Transport'],
    event: '停车场满位',
    eventEn: 'Car park full',
    instruction: '请选择周边其他停车场，现场引导车辆有序分流。',
    instructionEn: 'Use another car park nearby; guide arriving vehicles elsewhere.',
    responseType: 'Avoid',
  },
  dispatch: {
    cap: ['Rescue', 'Fire'],
    event: '救援响应超时',
    eventEn: 'Emergency response overdue',
    instruction: '指挥中心立即核实出动情况，调派就近救援力量。',
    instructionEn: 'Check the dispatch and send the nearest available unit.',
    responseType: 'Execute',
  },
  sensor: {
    cap: ['Infra'],
    event: '监测设备离线',
    eventEn: 'Sensor offline',
    instruction: '请检查监测设备及其通信链路。',
    instructionEn: 'Check the sensor and its communication link.',
    responseType: 'Assess',
  },
  kpi: {
    cap: ['Rescue'],
    event: '指标未达标',
    eventEn: 'Performance target missed',
    instruction: '请复核近期响应情况并调整力量部署。',
    instructionEn: 'Review recent responses and adjust the deployment of units.',
    responseType: 'Monitor',
  },
};

export function capMsgType(a: Alert): 'Alert' | 'Update' | 'Cancel' {
  if (a.status === 'resolved') return 'Cancel';
  return versionOf(a) <= 1 ? 'Alert' : 'Update';
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A CAP <value> / string: no control characters XML 1.0 forbids. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, ' ');
}

function el(name: string, text: string, indent: string): string {
  return `${indent}<${name}>${esc(clean(text))}</${name}>\n`;
}

function num(n: number): string {
  return String(Math.round(n * 1e6) / 1e6);
}

export function refString(sender: string, r: CapRef): string {
  return `${sender},${r.identifier},${beijingCapTime(r.sent)}`;
}

/** areaDesc: the street, then the place (the alert's entity as its title names it). */
function areaDesc(a: Alert, en: boolean): string {
  const place = a.entityId;
  return en ? `${a.district} · ${place}` : `${a.district} · ${place}`;
}

function info(a: Alert, ctx: CapContext, en: boolean): string {
  const c = CAP_CATEGORY[a.category];
  const i = '    ';
  const cancelled = a.status === 'resolved';
  let x = '  <info>\n';
  x += el('language', en ? 'en-US' : 'zh-CN', i);
  for (const cat of c.cap) x += el('category', cat, i);
  x += el('event', en ? c.eventEn : c.event, i);
  x += el('responseType', cancelled ? 'AllClear' : c.responseType, i);
  x += el('urgency', cancelled ? 'Past' : 'Immediate', i);
  x += el('severity', CAP_SEVERITY[a.severity], i);
  x += el('certainty', 'Observed', i);
  x += `${i}<eventCode>\n${el('valueName', 'huitian:rule', `${i}  `)}${el('value', a.rule, `${i}  `)}${i}</eventCode>\n`;
  x += el('effective', beijingCapTime(a.openedAt), i);
  x += el('senderName', en ? ctx.config.senderNameEn : ctx.config.senderName, i);
  const headline = en ? a.titleEn : a.title;
  x += el('headline', cancelled ? (en ? `Cancelled: ${headline}` : `解除：${headline}`) : headline, i);
  let description = en ? a.messageEn : a.message;
  if (a.value !== null && a.peakValue !== undefined && a.peakValue !== null && a.peakValue !== a.value) {
    description += en ? ` Latest reading ${num(a.value)}, peak ${num(a.peakValue)}.` : ` 最新读数 ${num(a.value)}，峰值 ${num(a.peakValue)}。`;
  }
  x += el('description', description, i);
  x += el('instruction', cancelled ? (en ? 'The warning is lifted.' : '预警解除。') : en ? c.instructionEn : c.instruction, i);
  const params: Array<[string, string]> = [
    ['level', en ? SEVERITY_LEVEL[a.severity] : `${SEVERITY_ZH[a.severity]}（${SEVERITY_LEVEL[a.severity]}级）`],
    ['color', a.severity],
    ['alertId', a.id],
    ['version', String(versionOf(a))],
    ['status', a.status],
  ];
  if (a.value !== null) params.push(['value', num(a.value)]);
  if (a.peakValue !== undefined && a.peakValue !== null) params.push(['peakValue', num(a.peakValue)]);
  if (a.threshold !== null) params.push(['threshold', num(a.threshold)]);
  for (const [k, v] of params) x += `${i}<parameter>\n${el('valueName', k, `${i}  `)}${el('value', v, `${i}  `)}${i}</parameter>\n`;
  x += `${i}<area>\n`;
  x += el('areaDesc', areaDesc(a, en), `${i}  `);
  if (a.location != null) x += el('circle', `${num(a.location.lat)},${num(a.location.lon)} 0.1`, `${i}  `);
  const code = ctx.config.districtCodes[a.district] ?? ctx.config.areaCode;
  x += `${i}  <geocode>\n${el('valueName', 'GB/T 2260', `${i}    `)}${el('value', code, `${i}    `)}${i}  </geocode>\n`;
  x += `${i}</area>\n`;
  x += '  </info>\n';
  return x;
}

export function renderCapMessage(a: Alert, ctx: CapContext): string {
  const cfg = ctx.config;
  let x = '<?xml version="1.0" encoding="UTF-8"?>\n';
  x += `<alert xmlns="${CAP_NAMESPACE}">\n`;
  x += el('identifier', ctx.message.identifier, '  ');
  x += el('sender', cfg.sender, '  ');
  x += el('sent', beijingCapTime(ctx.message.sent), '  ');
  x += el('status', ctx.status, '  ');
  x += el('msgType', capMsgType(a), '  ');
  x += el('source', `huitian-brain ${a.rule}`, '  ');
  x += el('scope', 'Public', '  ');
  const last = a.history[a.history.length - 1];
  if (last !== undefined) x += el('note', `${last.action} ${last.by}${last.note === undefined ? '' : `: ${last.note}`}`, '  ');
  if (ctx.previous !== null) x += el('references', refString(cfg.sender, ctx.previous), '  ');
  x += el('incidents', a.id, '  ');
  x += info(a, ctx, false);
  x += info(a, ctx, true);
  x += '</alert>\n';
  return x;
}

export interface FeedEntry {
  alert: Alert;
  message: CapRef;
  /** Absolute or root-relative URL of the entry's CAP message. */
  href: string;
}

/** The active alerts as an Atom 1.0 feed (RFC 4287) a warning-release system polls. */
export function renderAtomFeed(entries: readonly FeedEntry[], feed: { id: string; self: string; updated: number; title: string }): string {
  let x = '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n';
  x += el('id', feed.id, '  ');
  x += el('title', feed.title, '  ');
  x += el('updated', beijingCapTime(feed.updated), '  ');
  x += `  <link rel="self" type="application/atom+xml" href="${esc(feed.self)}"/>\n`;
  x += `  <author>\n${el('name', 'huitian-brain', '    ')}  </author>\n`;
  for (const e of entries) {
    x += '  <entry>\n';
    x += el('id', `urn:huitian:cap:${e.message.identifier}`, '    ');
    x += el('title', e.alert.title, '    ');
    x += el('updated', beijingCapTime(e.message.sent), '    ');
    x += `    <link rel="alternate" type="application/cap+xml" href="${esc(e.href)}"/>\n`;
    x += `    <category term="${esc(e.alert.severity)}" label="${esc(CAP_SEVERITY[e.alert.severity])}"/>\n`;
    x += el('summary', e.alert.message, '    ');
    x += '  </entry>\n';
  }
  x += '</feed>\n';
  return x;
}
