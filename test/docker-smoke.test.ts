import { describe, expect, it } from 'vitest';
import { requireDocker } from './helpers/docker.js';

describe('docker engine', () => {
  it('answers a ping through dockerode and reports its version', async () => {
    const docker = await requireDocker();
    const v = await docker.version();
    expect(v.Version).toMatch(/^\d+\.\d+/);
    expect(v.Os).toBe('linux');
  });
});
