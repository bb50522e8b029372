/**
 * Key paths and source positions. The loader keeps the YAML document (parsed with a LineCounter) so
 * every problem can name `file:line:col` and the key path it concerns.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type ParsedNode } from 'yaml';

export type KeyPath = readonly PropertyKey[];

export interface Position {
  line: number;
  col: number;
}

/** `environments.prod.target.backups_dir`, `environments.prod.health[0].http.url`. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = String(seg);
      if (/^[A-Za-z0-9_$-]+$/.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out === '' ? '(top level)' : out;
}

export function sameOrUnder(path: KeyPath, prefix: KeyPath): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((seg, i) => String(seg) === String(path[i]));
}

/** A scalar key as the string JavaScript sees after toJS(). */
export function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (key === null || key === undefined) return undefined;
  if (typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean') return String(key);
  return undefined;
}

export interface Located {
  pos: Position;
  /** true when the whole path exists in the file (false: the position is the nearest existing parent). */
  exact: boolean;
}

/**
 * Finds a key path in a parsed YAML document. `at: 'key'` points at the key itself (unknown keys),
 * `at: 'value'` at the value (wrong types). A path that does not exist falls back to its deepest
 * existing parent.
 */
export class SourceMap {
  constructor(
    private readonly doc: Document.Parsed | Document,
    private readonly lineCounter: LineCounter,
    private readonly root: Node | null,
  ) {}

  locate(path: KeyPath, at: 'key' | 'value' = 'value'): Located | undefined {
    let node: unknown = this.root;
    let keyNode: Node | null = null;
    // Where a missing child is reported: the key of its nearest existing parent.
    let anchor: Node | null = isNodeLike(this.root) ? this.root : null;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(this.doc as Document);
      if (isMap(node)) {
        const pair = node.items.find((p) => keyString(p.key) === String(seg));
        if (!pair) return this.at(anchor, false);
        keyNode = isNodeLike(pair.key) ? pair.key : null;
        node = pair.value;
        anchor = keyNode ?? anchor;
      } else if (isSeq(node) && typeof seg === 'number' && seg >= 0 && seg < node.items.length) {
        node = node.items[seg];
        keyNode = null;
        anchor = isNodeLike(node) ? node : anchor;
      } else {
        return this.at(anchor, false);
      }
    }
    const valueNode = isNodeLike(node) && node.range ? node : null;
    const target = at === 'key' ? (keyNode ?? valueNode) : (valueNode ?? keyNode);
    return this.at(target ?? anchor, true);
  }

  private at(node: Node | null, exact: boolean): Located | undefined {
    const offset = node?.range?.[0];
    if (offset === undefined) return undefined;
    const { line, col } = this.lineCounter.linePos(offset);
    return { pos: { line, col }, exact };
  }
}

function isNodeLike(v: unknown): v is Node | ParsedNode {
  return typeof v === 'object' && v !== null && 'range' in v;
}
