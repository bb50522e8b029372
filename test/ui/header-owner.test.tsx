/**
 * The header says who owns automation when another process holds the monitor lease (the console is
 * then an observer), and keeps today's "auto ARMED" when this console owns it or nothing coordinates.
 */
import React from 'react';
import { describe, expect, it } from 'vitest';
import type { MonitorState } from '../../src/core/monitor/types.js';
import { Header } from '../../src/ui/components/Header.js';
import { ThemeProvider } from '../../src/ui/components/ThemeContext.js';
import { MONOCHROME_THEME } from '../../src/ui/theme.js';
import { BACKUPS, envInfo, monitorState, NOW } from './fixtures.js';
import { renderAt } from './render.js';

const owner = { kind: 'monitor', pid: 4121, host: 'app-1', via: 'systemd', since: '2026-11-24T02:10:33.000Z' };

function headerWith(automationOwner: MonitorState['automationOwner']): string {
  const tree = (
    <ThemeProvider theme={MONOCHROME_THEME}>
      <Header env={envInfo()} monitor={monitorState({ automationOwner })} backups={BACKUPS} auto={null} lockOwner={null} now={NOW} width={120} />
    </ThemeProvider>
  );
  return renderAt(tree, 120, 24).lastFrame() ?? '';
}

describe('the header and the automation owner', () => {
  it('an observer names the owner: kind, pid, host, how it was started and since when', () => {
    const frame = headerWith({ ...owner, self: false });
    expect(frame).toContain('automation: monitor pid 4121 on app-1 (systemd), since 02:10 · ARMED');
    expect(frame).not.toContain('auto ARMED');
  });

  it('the owner itself, and a monitor without the lease, show automation as before', () => {
    expect(headerWith({ ...owner, self: true })).toContain('auto ARMED');
    expect(headerWith(null)).toContain('auto ARMED');
  });
});
