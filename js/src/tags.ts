// The tag browser's model, pure: flattening TagNode trees into visible rows, the filter, and the
// text shown (and copied) for each value.

import type { TagNode, TagValue } from "./types";

export interface TagRow {
  /** Path of the row in the tree, e.g. "3/0/5" (node 3, item 0, node 5); unique per row. */
  id: string;
  depth: number;
  kind: "tag" | "item";
  node?: TagNode;
  /** "Item 1" rows of sequences. */
  itemLabel?: string;
  expandable: boolean;
  expanded: boolean;
}

/** The value as one line of text. */
export function valueText(v: TagValue): string {
  switch (v.type) {
    case "string":
      return v.value;
    case "number":
      return String(v.value);
    case "numbers": {
      const more = v.truncated ? ` … (${v.total ?? "more"} values)` : "";
      return v.value.join("\\") + more;
    }
    case "sequence": {
      const n = v.total ?? v.items.length;
      return `${n} item${n === 1 ? "" : "s"}${v.truncated ? " (truncated)" : ""}`;
    }
    case "binary":
      return `<binary, ${formatBytes(v.length)}>`;
    case "error":
      return `<error: ${v.message}>`;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB (${n} bytes)`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB (${n} bytes)`;
}

function nodeMatches(n: TagNode, q: string): boolean {
  return (
    n.keyword.toLowerCase().includes(q) ||
    n.tag.toLowerCase().includes(q) ||
    n.tag.replace(/[(),]/g, "").toLowerCase().includes(q) ||
    (n.value.type !== "sequence" && valueText(n.value).toLowerCase().includes(q))
  );
}

/** Ids of every node that matches or has a matching descendant (for filtering). */
function matchingIds(
  nodes: readonly TagNode[],
  q: string,
  prefix: string,
  out: Set<string>,
): boolean {
  let any = false;
  nodes.forEach((n, i) => {
    const id = prefix ? `${prefix}/${i}` : `${i}`;
    let hit = nodeMatches(n, q);
    if (n.value.type === "sequence") {
      n.value.items.forEach((item, j) => {
        const itemId = `${id}/${j}`;
        if (matchingIds(item, q, itemId, out)) {
          out.add(itemId);
          hit = true;
        }
      });
    }
    if (hit) {
      out.add(id);
      any = true;
    }
  });
  return any;
}

/**
 * The rows to show. Without a filter, sequences open only when their id is in `expanded`. With a
 * filter, only matching nodes and their ancestors show, and ancestors open automatically; a
 * matching sequence still needs expanding to show its unmatched content.
 */
export function visibleRows(
  nodes: readonly TagNode[],
  expanded: ReadonlySet<string>,
  filter: string,
): TagRow[] {
  const q = filter.trim().toLowerCase();
  const keep = q ? new Set<string>() : null;
  if (keep) matchingIds(nodes, q, "", keep);
  const rows: TagRow[] = [];
  const walk = (list: readonly TagNode[], prefix: string, depth: number, showAll: boolean) => {
    list.forEach((n, i) => {
      const id = prefix ? `${prefix}/${i}` : `${i}`;
      if (keep && !showAll && !keep.has(id)) return;
      const isSeq = n.value.type === "sequence" && n.value.items.length > 0;
      const childShowAll = showAll || (keep !== null && nodeMatches(n, q) && expanded.has(id));
      const open = isSeq && (expanded.has(id) || (keep !== null && !showAll && hasKeptChild(id)));
      rows.push({ id, depth, kind: "tag", node: n, expandable: isSeq, expanded: open });
      if (open && n.value.type === "sequence") {
        n.value.items.forEach((item, j) => {
          const itemId = `${id}/${j}`;
          if (keep && !childShowAll && !keep.has(itemId)) return;
          rows.push({
            id: itemId,
            depth: depth + 1,
            kind: "item",
            itemLabel: `Item ${j + 1}`,
            expandable: false,
            expanded: true,
          });
          walk(item, itemId, depth + 2, childShowAll || showAll);
        });
      }
    });
  };
  const hasKeptChild = (id: string) => {
    if (!keep) return false;
    for (const k of keep) if (k.startsWith(`${id}/`)) return true;
    return false;
  };
  walk(nodes, "", 0, false);
  return rows;
}

/** Text copied when a row is clicked: "(0010,0020) PatientID: value". */
export function copyText(n: TagNode): string {
  return `${n.tag} ${n.keyword || "(unknown)"}: ${valueText(n.value)}`;
}
