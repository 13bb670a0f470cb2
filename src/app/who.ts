// Who is acting, for audit rows (retag, undo, the workstation's t/u): the name the environment gives
// (STELLA_USER, USER, LOGNAME), else the OS account of this process (root over SSH often has no USER),
// plus the client address when the session came in over SSH.
import os from 'node:os';

function osAccount(): string {
  try {
    const u = os.userInfo();
    if (u.username) return u.username;
    return `uid ${u.uid}`;
  } catch {
    // No passwd entry for this uid (containers): the uid is still the truth.
    return typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'unknown';
  }
}

/** The `who` of an audit row: `name` or `name from ADDRESS` (SSH_CONNECTION's client address). */
export function auditWho(env: NodeJS.ProcessEnv, explicit?: string): string {
  const given = explicit?.trim() || env.STELLA_USER?.trim() || env.USER?.trim() || env.LOGNAME?.trim();
  const name = given || osAccount();
  const client = env.SSH_CONNECTION?.trim().split(/\s+/)[0];
  return client ? `${name} from ${client}` : name;
}
