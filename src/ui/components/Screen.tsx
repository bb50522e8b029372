/**
 * The whole screen for a given size, from the state alone: header, banners, then either the one open
 * dialog, the progress view, the charts view (`g`) or the dashboard (charts, triggers, backups | history,
 * events), and the footer. Layout reflows from 80x24 up; charts degrade from braille to sparklines to numbers. Below 80
 * columns backups and history no longer fit side by side: the list that has the focus gets the whole
 * width (Tab switches). The help overlay covers the banners too (the header still shows a countdown).
 * On a fleet the Hosts panel sits above the lists (taking the events pane's rows first), the charts and
 * triggers are the selected host's, and the header sums the fleet up. A fleet rollback started here
 * replaces the charts with its host x step grid (the Hosts panel stays below it, updating), then with
 * each host's result until Esc.
 */

/** What the charts and triggers show: the selected host of a fleet, else the environment. */
function subjectOf(state: AppState): { series: AppState['series']; monitor: AppState['monitor']; name: string } {
  const f = state.fleet;
  const host = f?.hosts[state.selection.hosts]?.name;
  if (!f || host === undefined) return { series: state.series, monitor: state.monitor, name: state.env.name };
  return { series: f.series[host] ?? [], monitor: f.states[host] ?? state.monitor, name: `${state.env.name}/${host}` };
}
import React from 'react';
import { Box } from 'ink';
import type { TriggerState } from '../../core/monitor/types.js';
import type { AppState } from '../state/types.js';
import { keyContextOf } from '../state/input.js';
import { bindingsOf } from '../keybindings.js';
import { Header } from './Header.js';
import { Banners, bannerLines } from './Banners.js';
import { Charts, chartsHeight, type ChartMode } from './Charts.js';
import { ChartsView } from './ChartsView.js';
import { rollbackMarks } from '../chart/specs.js';
import { TriggersPanel } from './TriggersPanel.js';
import { BackupsPanel } from './BackupsPanel.js';
import { HistoryPanel } from './HistoryPanel.js';
import { EventsPanel } from './EventsPanel.js';
import { Footer, footerHeight } from './Footer.js';
import { HelpOverlay } from './HelpOverlay.js';
import { RollbackDialogView } from './RollbackDialog.js';
import { ProgressView, progressTitle } from './ProgressView.js';
import { HistoryDetail } from './HistoryDetail.js';
import { QuitDialog, quitDialogHeight } from './QuitDialog.js';
import { HostsPanel } from './HostsPanel.js';
import { FleetProgress, fleetRunHeight } from './FleetProgress.js';
import { fleetHeadline } from '../state/slices/fleet.js';

const NO_TRIGGERS: readonly TriggerState[] = [];

export interface Layout {
  chartMode: ChartMode;
  chartRows: number;
  chartsHeight: number;
  triggerRows: number;
  listsHeight: number;
  eventsHeight: number;
  sideBySide: boolean;
}

/** Pure: how many rows each part gets. */
export function computeLayout(width: number, height: number, banners: number, triggers: number, footer = 1): Layout {
  const fixed = 2 + footer + banners; // header, footer, banners
  const triggerRows = Math.max(1, Math.min(triggers || 1, 6));
  const triggersH = 1 + triggerRows;
  let chartMode: ChartMode = 'numbers';
  let chartRows = 0;
  const avail = height - fixed - triggersH;
  if (width >= 100 && avail >= 30) {
    chartMode = 'braille';
    chartRows = Math.max(3, Math.min(8, Math.floor((avail - 18) / 2)));
  } else if (avail >= chartsHeight('sparkline', 0) + 3) {
    // The four metric rows stay whenever the lists keep their three rows: banners (a countdown, a
    // result) take the events pane's room first, never the charts'.
    chartMode = 'sparkline';
  }
  const ch = chartsHeight(chartMode, chartRows);
  const rest = Math.max(0, height - fixed - triggersH - ch);
  let eventsHeight = rest >= 12 ? Math.max(4, Math.floor(rest * 0.4)) : rest >= 9 ? 4 : 0;
  const listsHeight = Math.max(3, rest - eventsHeight);
  if (listsHeight + eventsHeight > rest) eventsHeight = Math.max(0, rest - listsHeight);
  return { chartMode, chartRows, chartsHeight: ch, triggerRows, listsHeight, eventsHeight, sideBySide: width >= 80 };
}

/**
 * Every part gets only the slices of the state it draws and is memoized, so a change re-renders what it
 * touches (a monitor check: header, charts, triggers; a key: the panel or the footer).
 */
export function Screen({ state, width, height }: { state: AppState; width: number; height: number }): React.JSX.Element {
  const ctx = keyContextOf(state);
  const d = state.dialog;
  const showBanners = d?.type !== 'help';
  const banners = showBanners ? bannerLines(state.banners) : 0;
  const focusedPanel = state.dialog === null ? state.focus : null;
  const backups = (h: number, w: number): React.JSX.Element => (
    <BackupsPanel
      backups={state.backups}
      loaded={state.backupsLoaded}
      selected={state.selection.backups}
      focused={focusedPanel === 'backups'}
      now={state.now}
      width={w}
      height={h}
    />
  );
  const history = (h: number, w: number): React.JSX.Element => (
    <HistoryPanel history={state.history} selected={state.selection.history} focused={focusedPanel === 'history'} width={w} height={h} />
  );
  const footer = footerHeight(ctx, width);
  const subject = subjectOf(state);
  const layout = computeLayout(width, height, banners, subject.monitor?.triggers.filter((t) => t.status !== 'disabled').length ?? 0, footer);
  const hostRows = state.fleet?.hosts ?? [];
  // The Hosts panel takes half of the room below the triggers (the lists and events share the rest);
  // it scrolls when the fleet has more hosts than that.
  const rest = layout.listsHeight + layout.eventsHeight;
  const hostsH = hostRows.length === 0 ? 0 : Math.min(hostRows.length + 3, Math.max(5, Math.floor(rest / 2)));
  const below = rest - hostsH;
  const eventsH = hostsH === 0 ? layout.eventsHeight : below >= 12 ? Math.max(4, Math.floor(below * 0.4)) : 0;
  const listsH = hostsH === 0 ? layout.listsHeight : Math.max(3, below - eventsH);
  const bodyH = Math.max(3, height - 2 - footer - banners);
  let body: React.JSX.Element;
  if (d?.type === 'rollback') {
    body = <RollbackDialogView dialog={d} env={state.env} now={state.now} width={width} height={bodyH} />;
  } else if (d?.type === 'help') {
    body = <HelpOverlay bindings={bindingsOf(ctx)} width={width} height={bodyH} />;
  } else if (d?.type === 'history') {
    body = <HistoryDetail entry={d.entry} report={d.report} reportError={d.reportError} width={width} height={bodyH} />;
  } else if (state.fleetRun && !state.progress) {
    const quitH = d?.type === 'quit' ? quitDialogHeight(width, true) : 0;
    const room = bodyH - quitH;
    const want = fleetRunHeight(state.fleetRun, width);
    // While it runs the Hosts panel keeps seven rows (four hosts; the grid scrolls); the result takes what it needs.
    const runH = Math.min(want, state.fleetRun.finishedAt === null ? Math.max(8, room - 7) : room);
    const hostsRoom = room - runH;
    body = (
      <Box flexDirection="column" width={width} height={bodyH}>
        {d?.type === 'quit' ? <QuitDialog width={width} fleet /> : null}
        <FleetProgress run={state.fleetRun} now={state.now} width={width} height={runH} />
        {hostsRoom >= 4 ? <HostsPanel hosts={hostRows} selected={state.selection.hosts} focused={focusedPanel === 'hosts'} width={width} height={hostsRoom} /> : null}
      </Box>
    );
  } else if (state.view === 'charts' && !state.progress && d === null) {
    body = <ChartsView series={subject.series} monitor={subject.monitor} history={state.history} subject={subject.name} width={width} height={bodyH} />;
  } else {
    const p = state.progress;
    const progressH = p ? Math.min(bodyH, Math.max(8, Math.min(p.steps.length + 5 + progressTitle(p, state.now, width).rows, Math.floor(bodyH * 0.6)))) : 0;
    const restH = bodyH - progressH - (d?.type === 'quit' ? quitDialogHeight(width) : 0);
    // Backups need 64 columns at most; on a wide terminal the rest goes to the history's longer rows.
    const listW = layout.sideBySide ? Math.min(Math.floor(width / 2), 64) : width;
    // Side by side, or (narrow) only the focused one of the two.
    const lists = (h: number): React.JSX.Element =>
      layout.sideBySide ? (
        <>
          {backups(h, listW)}
          {history(h, width - listW)}
        </>
      ) : state.focus === 'history' ? (
        history(h, width)
      ) : (
        backups(h, width)
      );
    body = (
      <Box flexDirection="column" width={width} height={bodyH}>
        {d?.type === 'quit' ? <QuitDialog width={width} /> : null}
        {state.progress ? <ProgressView progress={state.progress} now={state.now} width={width} height={progressH} /> : null}
        {state.progress ? (
          <Box flexDirection="row" height={Math.max(0, restH)} overflow="hidden">
            {lists(Math.max(3, restH))}
          </Box>
        ) : (
          <>
            <Charts series={subject.series} monitor={subject.monitor} width={width} mode={layout.chartMode} rows={layout.chartRows} marks={rollbackMarks(state.history)} />
            <TriggersPanel triggers={subject.monitor?.triggers ?? NO_TRIGGERS} width={width} maxRows={layout.triggerRows} />
            {hostsH > 0 ? <HostsPanel hosts={hostRows} selected={state.selection.hosts} focused={focusedPanel === 'hosts'} width={width} height={hostsH} /> : null}
            <Box flexDirection="row" height={listsH}>
              {lists(listsH)}
            </Box>
            {eventsH >= 3 ? (
              <EventsPanel events={state.events} selected={state.selection.events} focused={focusedPanel === 'events'} width={width} height={eventsH} />
            ) : null}
          </>
        )}
      </Box>
    );
  }
  return (
    // No overflow="hidden" here: ink clips every write of a clipped box with slice-ansi and string-width,
    // which on the braille charts doubled the cost of a frame. Nothing is lost: every part is sized to
    // fit, texts truncate, and ink drops rows below the root's height anyway.
    <Box flexDirection="column" width={width} height={height}>
      <Header
        env={state.fleet ? { ...state.env, host: fleetHeadline(state.fleet.hosts) } : state.env}
        monitor={state.monitor}
        backups={state.backups}
        auto={state.banners.auto}
        lockOwner={state.lockOwner}
        now={state.now}
        width={width}
      />
      {showBanners ? <Banners banners={state.banners} envName={state.env.name} width={width} /> : null}
      {body}
      <Footer ctx={ctx} width={width} />
    </Box>
  );
}
