/**
 * The rollback dialog: the preview first (current -> target, the target's age and marks, the steps that
 * will run and what is skipped), then the reason (required), then the confirmation: `y` for yes-no
 * environments, the environment's name for `confirm: type-name` environments and for every emergency.
 * On a fleet the preview is the fleet's (FleetPreview: per host from -> to, the batches, or each host's
 * problem); the stages and the confirmation are the same.
 */
import React, { memo } from 'react';
import { Box, Text } from 'ink';
import type { EnvInfo, RollbackDialog as Dialog } from '../state/types.js';
import { color } from '../theme.js';
import { age, displayName, pad, shortName, truncate } from '../format.js';
import { useTheme } from './ThemeContext.js';
import { wrappedLines } from './lists.js';
import { FleetPreview } from './FleetPreview.js';

/** The plan's own emergency warning when it has one (said once, in the emergency line), else ours. */
const EMERGENCY_NOTE = 'EMERGENCY: pre-validation and verification will be skipped';

/** Rows of the lines under the steps (the stage's prompt, the error), each one line. */
function bottomRows(d: Dialog): number {
  let n = d.error ? 1 : 0;
  if (d.stage === 'blocked' || d.stage === 'preview') n += 1;
  if (d.stage === 'reason') n += 2;
  if (d.stage === 'confirm') n += 2;
  return n;
}

const KIND_TITLE: Record<Dialog['kind'], string> = {
  standard: 'Standard rollback',
  emergency: 'EMERGENCY rollback',
  targeted: 'Targeted rollback',
};

export const RollbackDialogView = memo(function RollbackDialogView({
  dialog,
  env,
  now,
  width,
  height,
}: {
  dialog: Dialog;
  env: EnvInfo;
  now: number;
  width: number;
  height: number;
}): React.JSX.Element {
  const theme = useTheme();
  const d = dialog;
  const plan = d.plan;
  const title = d.dryRun ? 'Dry run (changes nothing)' : KIND_TITLE[d.kind];
  const inner = width - 4;
  const steps = plan?.steps ?? [];
  const emergencyNote = plan && d.kind === 'emergency' ? (plan.warnings.find((w) => w.startsWith('EMERGENCY')) ?? EMERGENCY_NOTE) : null;
  const warnings = plan ? plan.warnings.filter((w) => w !== emergencyNote) : [];
  const planErrorText = d.planError ? `✗ Cannot roll back: ${d.planError}` : null;
  // Every row but the steps': border, title, loading, plan error, route, emergency line, warnings,
  // problems, "Steps:", and the prompt lines at the bottom.
  const fixed =
    2 +
    1 +
    (d.stage === 'loading' ? 1 : 0) +
    (planErrorText ? wrappedLines(planErrorText, inner) : 0) +
    (plan ? 2 + warnings.length + plan.problems.length : 0) +
    (emergencyNote ? wrappedLines(`⚠ ${emergencyNote}`, inner) : 0) +
    bottomRows(d);
  const room = Math.max(1, height - fixed);
  // All steps when they fit, else one row less and "… N more steps".
  const shownSteps = steps.length <= room ? steps : steps.slice(0, Math.max(1, room - 1));
  const created = plan ? Date.parse(plan.to.created) : NaN;
  const fleet = d.fleet ?? null;
  // A fleet's emergency says what it skips on every host, above the fleet's preview.
  const fleetEmergency = fleet?.plan && d.kind === 'emergency' ? `${EMERGENCY_NOTE} on every host` : null;
  const fleetRows = Math.max(
    1,
    height - 3 - bottomRows(d) - (planErrorText ? wrappedLines(planErrorText, inner) : 0) - (fleetEmergency ? wrappedLines(`⚠ ${fleetEmergency}`, inner) : 0),
  );
  const fleetTo = fleet?.plan ? ` (${fleet.plan.hosts.filter((h) => h.status !== 'excluded').length} hosts to ${shortName(fleet.plan.to, inner < 90)})` : '';
  return (
    <Box
      flexDirection="column"
      borderStyle="double"
      borderColor={d.kind === 'emergency' || !d.dryRun ? color(theme, 'dangerous') : color(theme, 'focus')}
      width={width}
      height={height}
      paddingX={1}
      overflow="hidden"
    >
      <Text bold wrap="truncate">
        <Text color={d.dryRun ? color(theme, 'accent') : color(theme, 'dangerous')}>{title}</Text>
        <Text> of </Text>
        <Text inverse={env.isProd} color={color(theme, env.isProd ? 'prod' : 'nonProd')}>{` ${env.name} `}</Text>
        <Text color={color(theme, 'muted')}> ({fleet ? `${fleet.hosts.length} hosts` : env.host})</Text>
      </Text>
      {d.stage === 'loading' ? <Text color={color(theme, 'muted')}>Preparing the preview…</Text> : null}
      {planErrorText ? (
        <Text color={color(theme, 'breached')} wrap="wrap">
          {planErrorText}
        </Text>
      ) : null}
      {fleetEmergency ? (
        <Text bold color={color(theme, 'warning')} wrap="wrap">
          ⚠ {fleetEmergency}
        </Text>
      ) : null}
      {fleet ? <FleetPreview preview={fleet} env={env.name} width={inner} height={fleetRows} /> : null}
      {plan ? (
        <>
          <Text wrap="truncate">
            <Text bold>{plan.from === null ? '(nothing live)' : displayName(plan.from)}</Text>
            <Text> -{'>'} </Text>
            <Text bold color={color(theme, 'accent')}>
              {displayName(plan.to.name)}
            </Text>
            <Text color={color(theme, 'muted')}>
              {Number.isNaN(created) ? '' : `  created ${age(created, now)} ago`}
            </Text>
            {plan.to.knownGood ? <Text color={color(theme, 'ok')}>  ★ known-good</Text> : null}
            {plan.to.bad ? <Text color={color(theme, 'breached')}>  ✗ MARKED BAD</Text> : null}
          </Text>
          {emergencyNote ? (
            <Text bold color={color(theme, 'warning')} wrap="wrap">
              ⚠ {emergencyNote}
            </Text>
          ) : null}
          {warnings.map((w, i) => (
            <Text key={`w${i}`} color={color(theme, 'warning')} wrap="truncate">
              ! {w}
            </Text>
          ))}
          {plan.problems.map((p, i) => (
            <Text key={`p${i}`} color={color(theme, 'breached')} wrap="truncate">
              ✗ {p}
            </Text>
          ))}
          <Text bold>Steps:</Text>
          {shownSteps.map((s) => (
            <Text key={s.name} wrap="truncate" color={s.skipped ? color(theme, 'warning') : undefined}>
              {s.skipped ? '  – ' : '  • '}
              {pad(s.title, 28)}
              {s.skipped ? (
                <Text color={color(theme, 'warning')}>skipped: {s.skipped}</Text>
              ) : (
                <Text color={color(theme, 'muted')}>{truncate(s.commands.join('; '), Math.max(0, inner - 32))}</Text>
              )}
            </Text>
          ))}
          {steps.length > shownSteps.length ? (
            <Text color={color(theme, 'muted')}>  … {steps.length - shownSteps.length} more steps</Text>
          ) : null}
        </>
      ) : null}
      <Box flexGrow={1} />
      {d.stage === 'blocked' ? <Text color={color(theme, 'breached')}>This rollback cannot run. Esc closes; nothing was changed.</Text> : null}
      {d.stage === 'preview' ? (
        <Text>
          <Text bold>Enter</Text> run the dry run (changes nothing) · <Text bold>Esc</Text> cancel
        </Text>
      ) : null}
      {d.stage === 'reason' || d.stage === 'confirm' ? (
        <Text wrap="truncate">
          <Text bold>Reason: </Text>
          <Text inverse={d.stage === 'reason'}>{d.reason}</Text>
          {d.stage === 'reason' ? <Text inverse> </Text> : null}
        </Text>
      ) : null}
      {d.stage === 'reason' ? (
        <Text color={color(theme, 'muted')}>Type why (required), Enter to continue, Esc to cancel.</Text>
      ) : null}
      {d.stage === 'confirm' && d.confirmation.kind === 'type-name' ? (
        <Text wrap="truncate">
          <Text bold color={color(theme, 'dangerous')}>
            Type {env.name} to roll back{fleetTo}:{' '}
          </Text>
          <Text inverse>{d.confirmText} </Text>
          <Text color={color(theme, 'muted')}>  Enter confirms · Esc cancels</Text>
        </Text>
      ) : null}
      {d.stage === 'confirm' && d.confirmation.kind === 'yes-no' ? (
        <Text bold>
          <Text color={color(theme, 'dangerous')}>
            Roll back {env.name}
            {fleetTo} now?
          </Text>{' '}
          y = yes, n or Esc = no
        </Text>
      ) : null}
      {d.error ? (
        <Text color={color(theme, 'breached')} wrap="truncate">
          ✗ {d.error}
        </Text>
      ) : null}
    </Box>
  );
});
