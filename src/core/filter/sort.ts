// The list orders, once: the store pages by these columns (keyset on the whole tuple, replay id last)
// and the workstation derives a row's cursor from the same table, so the two can never drift apart.
import type { MismatchReason, ReplayStatus } from '../formats.js';

export type ReplaySort = 'failing_first' | 'newest' | 'oldest' | 'cause' | 'project';

/** A sort key: the name of an indexed column of the store, derivable from a row. */
export type SortColumn = 'failing' | 'finished_at' | 'tag_key' | 'project';

/** Keyset position: the sort key values of a row plus its id as the final tie-breaker. */
export interface Cursor {
  key: Array<string | number | null>;
  id: string;
}

export const SORTS: Record<ReplaySort, { cols: SortColumn[]; desc: boolean }> = {
  failing_first: { cols: ['failing', 'finished_at'], desc: true },
  newest: { cols: ['finished_at'], desc: true },
  oldest: { cols: ['finished_at'], desc: false },
  cause: { cols: ['tag_key', 'finished_at'], desc: false },
  project: { cols: ['project', 'finished_at'], desc: false },
};

// A tag that sorts after every cause name, so untagged rows come last in the `cause` sort.
export const NO_TAG_KEY = '~';

export const failingOf = (status: ReplayStatus): 0 | 1 => (status === 'passed' ? 0 : 1);
export const tagKeyOf = (tag: MismatchReason | null): string => tag ?? NO_TAG_KEY;

interface SortableRow {
  replay_id: string;
  status: ReplayStatus;
  tag: MismatchReason | null;
  finished_at: string;
  project: string;
}

function sortValue(row: SortableRow, col: SortColumn): string | number {
  switch (col) {
    case 'failing':
      return failingOf(row.status);
    case 'finished_at':
      return row.finished_at;
    case 'tag_key':
      return tagKeyOf(row.tag);
    case 'project':
      return row.project;
    default: {
      const _exhaustive: never = col;
      return _exhaustive;
    }
  }
}

/** The keyset position of a row in a sort. */
export function cursorOf(row: SortableRow, sort: ReplaySort): Cursor {
  return { key: SORTS[sort].cols.map((c) => sortValue(row, c)), id: row.replay_id };
}
