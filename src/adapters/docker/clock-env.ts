// Frozen clock through libfaketime. An absolute FAKETIME ("2025-12-12 10:15:30") is parsed with
// mktime, i.e. in the process's TZ — so a replay with TZ=Europe/Berlin would be an hour off. Giving
// epoch seconds with FAKETIME_FMT=%s makes the instant independent of TZ; libfaketime still reads the
// ".mmm" fraction. The monotonic clock stays real so Node's timers and event loop keep running.
import { StellaError } from '../../core/errors.js';

export function faketimeEnv(frozenClock: string, preloadLib: string): Record<string, string> {
  const ms = Date.parse(frozenClock);
  if (Number.isNaN(ms)) throw new StellaError('MANIFEST_INVALID', `clock value ${JSON.stringify(frozenClock)} is not a date-time`, { path: '$.environment.clock_value' });
  const secs = Math.floor(ms / 1000);
  const frac = String(ms - secs * 1000).padStart(3, '0');
  return {
    LD_PRELOAD: preloadLib,
    FAKETIME_FMT: '%s',
    FAKETIME: `${secs}.${frac}`,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}
