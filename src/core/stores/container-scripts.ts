/**
 * The POSIX sh scripts of the container store. Each runs in one executor round trip (locally or over
 * SSH) and calls the engine's CLI, which is the same for docker and podman: `ps -a --format`,
 * `container inspect`, `image inspect`, `volume inspect`, `network inspect`, `stop -t`, `start`, `rm`,
 * `image rm`. Names travel as positional arguments, never inside the script text. Exit codes are mapped
 * to messages in container.ts.
 */
import { MARKS_LIST_FRAGMENT } from '../state/marks.js';

/** Exit codes shared by the scripts. */
export const EXIT = {
  notFound: 20,
  missingResources: 21,
  isLive: 24,
  noEngine: 26,
  engineFailed: 27,
  stopFailed: 51,
  startFailedRestored: 52,
  startFailedNothingRunning: 53,
} as const;

/** Sets $engine from $1 and fails with noEngine when the CLI is not on the PATH of the target host. */
const ENGINE = `
engine=$1
command -v "$engine" >/dev/null 2>&1 || exit ${EXIT.noEngine}
NL='
'
`;

/**
 * The release containers of $name, names one per line, into $found: all of them, or with $1 = running
 * the ones that hold the live slot (running, restarting or paused: a crash-looping old release left
 * alone would keep grabbing the port). Every container named `<name>-<something>` is a release of it.
 */
const FIND_RELEASES = `
find_releases() {
  all=$("$engine" ps -a --format '{{.Names}}') || exit ${EXIT.engineFailed}
  found=
  IFS=$NL
  for n in $all; do case $n in "$name"-?*) found="$found$n$NL" ;; esac; done
  unset IFS
  [ "$1" = running ] && [ -n "$found" ] || return 0
  IFS=$NL
  set -- $found
  unset IFS
  states=$("$engine" container inspect --format '{{.Name}} {{.State.Status}}' -- "$@") || exit ${EXIT.engineFailed}
  found=
  IFS=$NL
  for l in $states; do
    n=\${l%% *}
    case \${l##* } in running|restarting|paused) found="$found\${n#/}$NL" ;; esac
  done
  unset IFS
}
`;

/**
 * List: marks (M/Q), then `C <container inspect JSON>` of every release container, then `I <image
 * inspect JSON>` for each image they use (`[]` when the image is gone).
 */
export const LIST_SCRIPT = `${ENGINE}
name=$2 marks=$3
${MARKS_LIST_FRAGMENT}
${FIND_RELEASES}
find_releases all
[ -n "$found" ] || exit 0
IFS=$NL
set -- $found
unset IFS
printf 'C\\0'; "$engine" container inspect -- "$@" || exit ${EXIT.engineFailed}; printf '\\0'
images=$("$engine" container inspect --format '{{.Image}}' -- "$@" | sort -u) || exit ${EXIT.engineFailed}
IFS=$NL
set -- $images
unset IFS
# All images in one call; when one is gone the engine fails the call, so then one by one.
if all=$("$engine" image inspect -- "$@" 2>/dev/null); then printf 'I\\0%s\\0' "$all"
else for i in "$@"; do printf 'I\\0'; "$engine" image inspect -- "$i" 2>/dev/null || printf '[]'; printf '\\0'; done; fi
`;

/**
 * Pre-validation of what a container needs to start: $2 its image id, then `v:VOLUME`, `n:NETWORK`,
 * `b:BIND_SOURCE` items. Prints one `KIND NAME` line per missing thing (all of them) and exits
 * missingResources when there is any.
 */
export const CHECK_SCRIPT = `${ENGINE}
image=$2; shift 2
missing=0
"$engine" image inspect -- "$image" >/dev/null 2>&1 || { echo "image $image"; missing=1; }
for r in "$@"; do
  v=\${r#?:}
  case $r in
    v:*) "$engine" volume inspect -- "$v" >/dev/null 2>&1 || { echo "volume $v"; missing=1; } ;;
    n:*) "$engine" network inspect -- "$v" >/dev/null 2>&1 || { echo "network $v"; missing=1; } ;;
    b:*) [ -e "$v" ] || { echo "bind $v"; missing=1; } ;;
  esac
done
[ "$missing" = 0 ] || exit ${EXIT.missingResources}
`;

/**
 * The switch: stop every running release container but the target (engine stop with the service
 * timeout), start the target, and check it runs. If a stop fails, or the target does not start, what
 * was stopped is started again (exit stopFailed / startFailedRestored: nothing changed), or, when that
 * fails too, startFailedNothingRunning. The engine commands are echoed as they run (the step's output).
 * The last stderr line is the engine's own error.
 */
export const SWITCH_SCRIPT = `${ENGINE}
name=$2 target=$3 timeout=$4
"$engine" container inspect --format '{{.State.Running}}' -- "$target" >/dev/null 2>&1 || exit ${EXIT.notFound}
${FIND_RELEASES}
find_releases running
others=
IFS=$NL
for n in $found; do [ "$n" = "$target" ] || others="$others$n$NL"; done
unset IFS
if [ -z "$others" ] && [ "$("$engine" container inspect --format '{{.State.Running}}' -- "$target")" = true ]; then exit ${EXIT.isLive}; fi
restore() {
  IFS=$NL
  for s in $stopped; do
    echo "$engine start $s   (starting the previous release again)"
    err=$("$engine" start -- "$s" 2>&1 >/dev/null) || { printf 'could not start %s again: %s\\n' "$s" "$err" | tr '\\n' ' ' >&2; return 1; }
  done
  unset IFS
}
stopped=
IFS=$NL
for c in $others; do
  unset IFS
  echo "$engine stop -t $timeout $c"
  stopped="$stopped$c$NL"
  # podman refuses to stop a paused container; unpausing a running one fails harmlessly.
  "$engine" unpause -- "$c" >/dev/null 2>&1 || :
  if ! out=$("$engine" stop -t "$timeout" -- "$c" 2>&1 >/dev/null); then
    restore || exit ${EXIT.startFailedNothingRunning}
    printf '%s\\n' "$out" >&2
    exit ${EXIT.stopFailed}
  fi
done
unset IFS
echo "$engine start $target"
if out=$("$engine" start -- "$target" 2>&1 >/dev/null); then
  state=$("$engine" container inspect --format '{{.State.Status}} (exit code {{.State.ExitCode}})' -- "$target" 2>&1)
  case $state in running*) exit 0 ;; esac
  out="it did not keep running: $state"
fi
"$engine" stop -t "$timeout" -- "$target" >/dev/null 2>&1
restore || exit ${EXIT.startFailedNothingRunning}
printf '%s\\n' "$out" | tr '\\n' ' ' >&2
printf '\\n' >&2
exit ${EXIT.startFailedRestored}
`;

/**
 * Retention: remove the named release containers (never their volumes: no -v), then each image no
 * container uses any more. \`image rm\` without force is refused by docker and podman while any container,
 * stopped ones included, uses the image: a kept release never loses its image. Prints each removed
 * container name, NUL-terminated.
 */
export const PRUNE_SCRIPT = `${ENGINE}
shift
for c in "$@"; do
  img=$("$engine" container inspect --format '{{.Image}}' -- "$c" 2>/dev/null) || continue
  "$engine" rm -- "$c" >/dev/null || exit ${EXIT.engineFailed}
  printf '%s\\0' "$c"
  "$engine" image rm -- "$img" >/dev/null 2>&1 || :
done
`;
