/**
 * Where the plan diagram draws things: one box per host in a grid, one curved arrow per move
 * from its source box's edge to its target box's edge, with its label at the curve's middle.
 * Arrows between the same two hosts bend apart so none hides another, and an arrow and its
 * reverse bend to opposite sides. DOM-free (numbers and SVG path strings), so node:test
 * checks it.
 * @module
 */

export interface Point {
  x: number;
  y: number;
}

export interface HostBox {
  host: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface MoveArrow {
  order: number;
  guest: string;
  from: string;
  to: string;
  /** SVG path data: a quadratic curve from the source's edge to the target's edge. */
  path: string;
  start: Point;
  end: Point;
  /** Where the guest's name goes: the curve's midpoint (staggered on sideways curves). */
  label: Point;
  /**
   * How the name sits at {@link label}: centred above a curve bending up or down; beside
   * one bending sideways (so names of parallel vertical arrows do not cover each other).
   */
  anchor: 'middle' | 'start' | 'end';
}

export interface PlanLayout {
  width: number;
  height: number;
  boxes: HostBox[];
  arrows: MoveArrow[];
}

export interface LayoutMove {
  order: number;
  guest: string;
  from: string;
  to: string;
}

export const BOX = { width: 150, height: 64, gapX: 110, gapY: 120, margin: 40 } as const;

/** Boxes in rows of `columns` (at least 1), in the order given; the canvas fits them. */
export function layoutBoxes(hosts: readonly string[], columns: number): HostBox[] {
  const cols = Math.max(1, Math.min(Math.floor(columns), hosts.length));
  return hosts.map((host, i) => ({
    host,
    x: BOX.margin + (i % cols) * (BOX.width + BOX.gapX),
    y: BOX.margin + Math.floor(i / cols) * (BOX.height + BOX.gapY),
    width: BOX.width,
    height: BOX.height,
  }));
}

function centre(b: HostBox): Point {
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/** Where the ray from `b`'s centre towards `toward` leaves the box. */
export function edgePoint(b: HostBox, toward: Point): Point {
  const c = centre(b);
  const dx = toward.x - c.x;
  const dy = toward.y - c.y;
  if (dx === 0 && dy === 0) return c;
  // The ray hits the side it reaches first: scale so the larger relative step touches it.
  const scale = 1 / Math.max(Math.abs(dx) / (b.width / 2), Math.abs(dy) / (b.height / 2));
  return { x: c.x + dx * scale, y: c.y + dy * scale };
}

const round = (n: number): number => Math.round(n * 10) / 10;

/**
 * The arrow of the `index`-th move (0-based) between `from` and `to` in that direction. The
 * curve bends to the left of its direction, more for each further move on the same pair, so
 * reverse moves (b → a) bend the other way and parallel ones fan out.
 */
export function arrowBetween(
  from: HostBox,
  to: HostBox,
  index: number,
): Omit<MoveArrow, 'order' | 'guest' | 'from' | 'to'> {
  const a = centre(from);
  const b = centre(to);
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length = Math.hypot(dx, dy) || 1;
  // Unit normal to the left of a → b (SVG's y grows downwards).
  const nx = dy / length;
  const ny = -dx / length;
  const bend = 0.25 * length + 20 + index * 40;
  const control = { x: (a.x + b.x) / 2 + nx * bend, y: (a.y + b.y) / 2 + ny * bend };
  const start = edgePoint(from, control);
  const end = edgePoint(to, control);
  const sideways = Math.abs(nx) > Math.abs(ny);
  const label = {
    x: 0.25 * start.x + 0.5 * control.x + 0.25 * end.x,
    // Sideways curves fan out by less than a name's width: put each name on its own line.
    y: 0.25 * start.y + 0.5 * control.y + 0.25 * end.y + (sideways ? index * 16 : 0),
  };
  const anchor = !sideways ? 'middle' : nx > 0 ? 'start' : 'end';
  const p = (q: Point): string => `${round(q.x)} ${round(q.y)}`;
  return {
    path: `M ${p(start)} Q ${p(control)} ${p(end)}`,
    start: { x: round(start.x), y: round(start.y) },
    end: { x: round(end.x), y: round(end.y) },
    label: { x: round(label.x), y: round(label.y) },
    anchor,
  };
}

/**
 * The whole diagram: every host named by the plan (hosts first, then any a move names that the
 * list lacks), in rows of `columns`, and an arrow per move. Moves from a host to itself are
 * not drawn (a plan never makes one).
 */
export function layoutPlan(
  hosts: readonly string[],
  moves: readonly LayoutMove[],
  columns: number,
): PlanLayout {
  const names = [...hosts];
  for (const m of moves) for (const h of [m.from, m.to]) if (!names.includes(h)) names.push(h);
  const boxes = layoutBoxes(names, columns);
  const byHost = new Map(boxes.map((b) => [b.host, b]));
  const perPair = new Map<string, number>();
  const arrows: MoveArrow[] = [];
  for (const m of moves) {
    const from = byHost.get(m.from);
    const to = byHost.get(m.to);
    if (from === undefined || to === undefined || from === to) continue;
    const key = `${m.from}\u0000${m.to}`;
    const index = perPair.get(key) ?? 0;
    perPair.set(key, index + 1);
    arrows.push({
      order: m.order,
      guest: m.guest,
      from: m.from,
      to: m.to,
      ...arrowBetween(from, to, index),
    });
  }
  const cols = Math.max(1, Math.min(Math.floor(columns), names.length));
  const rows = Math.max(1, Math.ceil(names.length / cols));
  let width = 2 * BOX.margin + cols * BOX.width + (cols - 1) * BOX.gapX;
  let height = 2 * BOX.margin + rows * BOX.height + (rows - 1) * BOX.gapY;
  // Curves bend outside the grid (above one row, beside one column): grow the canvas to hold them.
  // A name beside its curve reaches about 8 px per character to one side.
  const right = (a: MoveArrow): number => (a.anchor === 'start' ? a.guest.length * 8 : 0);
  const left = (a: MoveArrow): number => (a.anchor === 'end' ? a.guest.length * 8 : 0);
  for (const a of arrows) {
    width = Math.max(width, a.label.x + right(a) + BOX.margin);
    height = Math.max(height, a.label.y + BOX.margin);
  }
  let shiftY = 0;
  let shiftX = 0;
  for (const a of arrows) {
    shiftY = Math.max(shiftY, BOX.margin / 2 - a.label.y);
    shiftX = Math.max(shiftX, BOX.margin + left(a) - a.label.x);
  }
  if (shiftX > 0 || shiftY > 0) return shifted({ width, height, boxes, arrows }, shiftX, shiftY);
  return { width: round(width), height: round(height), boxes, arrows };
}

/** Moves everything right/down so curves bending above or left of the grid stay visible. */
function shifted(layout: PlanLayout, dx: number, dy: number): PlanLayout {
  const move = (p: Point): Point => ({ x: round(p.x + dx), y: round(p.y + dy) });
  const movePath = (path: string): string => {
    let i = 0;
    return path.replace(/-?\d+(\.\d+)?/g, (n) =>
      String(round(Number(n) + (i++ % 2 === 0 ? dx : dy))),
    );
  };
  return {
    width: round(layout.width + dx),
    height: round(layout.height + dy),
    boxes: layout.boxes.map((b) => ({ ...b, x: round(b.x + dx), y: round(b.y + dy) })),
    arrows: layout.arrows.map((a) => ({
      ...a,
      path: movePath(a.path),
      start: move(a.start),
      end: move(a.end),
      label: move(a.label),
    })),
  };
}
