// Suspend windows by schedule: which rule (if any) covers a camera at an instant. Pure; the wall
// clock of each rule's time zone comes from Intl, so daylight saving time is the zone's own.
import { weekdays, type SuspendRule, type Weekday } from '../../config/privacy.ts';

const formats = new Map<string, Intl.DateTimeFormat>();

/** Weekday and minute of the day at `ms` in time zone `tz`. */
export function localTime(ms: number, tz: string): { day: Weekday; minute: number } {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(tz, f);
  }
  let day: Weekday = 'mon';
  let hour = 0;
  let minute = 0;
  for (const p of f.formatToParts(ms)) {
    if (p.type === 'weekday') day = p.value.slice(0, 3).toLowerCase() as Weekday;
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { day, minute: hour * 60 + minute };
}

const toMinute = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * True when the rule's window holds at ms. A window whose end is before its start runs past
 * midnight: it belongs to the day it starts on (`fri 22:00-06:00` covers Saturday until 06:00).
 * Equal start and end cover the whole day.
 */
export function windowActive(
  rule: Pick<SuspendRule, 'days' | 'from' | 'to' | 'timeZone'>,
  ms: number,
): boolean {
  const { day, minute } = localTime(ms, rule.timeZone);
  const from = toMinute(rule.from);
  const to = toMinute(rule.to);
  const days = new Set(rule.days);
  if (from === to) return days.has(day);
  if (from < to) return days.has(day) && minute >= from && minute < to;
  const yesterday = weekdays[(weekdays.indexOf(day) + 6) % 7] as Weekday;
  return (days.has(day) && minute >= from) || (days.has(yesterday) && minute < to);
}

/** Whether a rule names this camera: by id, by district, or all when it names neither. */
export function ruleCovers(rule: SuspendRule, cameraId: string, district: string | undefined): boolean {
  if (rule.cameras.length === 0 && rule.districts.length === 0) return true;
  return rule.cameras.includes(cameraId) || (district !== undefined && rule.districts.includes(district));
}

/** The first rule suspending the camera at ms, or undefined. */
export function scheduledSuspension(
  rules: readonly SuspendRule[],
  cameraId: string,
  district: string | undefined,
  ms: number,
): SuspendRule | undefined {
  return rules.find((r) => ruleCovers(r, cameraId, district) && windowActive(r, ms));
}
