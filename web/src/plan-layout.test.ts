import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOX, edgePoint, layoutBoxes, layoutPlan } from './plan-layout.js';

const inside = (v: number, lo: number, hi: number): boolean => v >= lo - 0.1 && v <= hi + 0.1;

test('boxes fill rows of the given width, in order', () => {
  const boxes = layoutBoxes(['h1', 'h2', 'h3'], 2);
  assert.deepEqual(
    boxes.map((b) => [b.host, b.x, b.y]),
    [
      ['h1', BOX.margin, BOX.margin],
      ['h2', BOX.margin + BOX.width + BOX.gapX, BOX.margin],
      ['h3', BOX.margin, BOX.margin + BOX.height + BOX.gapY],
    ],
  );
  // Fewer hosts than columns: one row; a silly column count still lays them out.
  assert.equal(new Set(layoutBoxes(['a', 'b'], 4).map((b) => b.y)).size, 1);
  assert.equal(layoutBoxes(['a', 'b'], 0).length, 2);
});

test('an edge point lies on the box border, towards the other point', () => {
  const [b] = layoutBoxes(['h1'], 1);
  assert.ok(b !== undefined);
  const right = edgePoint(b, { x: 1000, y: b.y + b.height / 2 });
  assert.deepEqual(right, { x: b.x + b.width, y: b.y + b.height / 2 });
  const up = edgePoint(b, { x: b.x + b.width / 2, y: -1000 });
  assert.deepEqual(up, { x: b.x + b.width / 2, y: b.y });
});

test('one arrow per move from the source box to the target box, labelled at its middle', () => {
  const layout = layoutPlan(
    ['h1', 'h2', 'h3'],
    [
      { order: 1, guest: 'vm-a', from: 'h1', to: 'h2' },
      { order: 2, guest: 'vm-b', from: 'h1', to: 'h3' },
    ],
    3,
  );
  assert.equal(layout.boxes.length, 3);
  assert.equal(layout.arrows.length, 2);
  const box = new Map(layout.boxes.map((b) => [b.host, b]));
  for (const a of layout.arrows) {
    const from = box.get(a.from);
    const to = box.get(a.to);
    assert.ok(from !== undefined && to !== undefined);
    // Starts on the source box's border and ends on the target's.
    assert.ok(
      inside(a.start.x, from.x, from.x + from.width) &&
        inside(a.start.y, from.y, from.y + from.height),
    );
    assert.ok(inside(a.end.x, to.x, to.x + to.width) && inside(a.end.y, to.y, to.y + to.height));
    assert.match(a.path, /^M -?[\d.]+ -?[\d.]+ Q -?[\d.]+ -?[\d.]+ -?[\d.]+ -?[\d.]+$/);
    // Everything is on the canvas.
    for (const p of [a.start, a.end, a.label]) {
      assert.ok(p.x >= 0 && p.x <= layout.width, `x ${p.x} within ${layout.width}`);
      assert.ok(p.y >= 0 && p.y <= layout.height, `y ${p.y} within ${layout.height}`);
    }
  }
  for (const b of layout.boxes) {
    assert.ok(b.x + b.width <= layout.width && b.y + b.height <= layout.height);
  }
});

test('moves between the same hosts fan out; a reverse move bends the other way', () => {
  const layout = layoutPlan(
    ['a', 'b'],
    [
      { order: 1, guest: 'x', from: 'a', to: 'b' },
      { order: 2, guest: 'y', from: 'a', to: 'b' },
      { order: 3, guest: 'z', from: 'b', to: 'a' },
    ],
    2,
  );
  const [x, y, z] = layout.arrows;
  assert.ok(x !== undefined && y !== undefined && z !== undefined);
  const midY = (layout.boxes[0]?.y ?? 0) + BOX.height / 2;
  // a → b bends above the boxes' centre line, further for the second; b → a below it.
  assert.ok(x.label.y < midY && y.label.y < x.label.y, `${x.label.y} ${y.label.y} ${midY}`);
  assert.ok(z.label.y > midY);
  assert.notEqual(x.path, y.path);
});

test('hosts only a move names get a box; a move onto its own host gets no arrow', () => {
  const layout = layoutPlan(
    ['h1'],
    [
      { order: 1, guest: 'g', from: 'h1', to: 'h9' },
      { order: 2, guest: 'self', from: 'h1', to: 'h1' },
    ],
    4,
  );
  assert.deepEqual(
    layout.boxes.map((b) => b.host),
    ['h1', 'h9'],
  );
  assert.deepEqual(
    layout.arrows.map((a) => a.guest),
    ['g'],
  );
});

test('names of sideways curves sit beside them, one line each', () => {
  const layout = layoutPlan(
    ['a', 'b'],
    [
      { order: 1, guest: 'x', from: 'a', to: 'b' },
      { order: 2, guest: 'y', from: 'a', to: 'b' },
      { order: 3, guest: 'z', from: 'b', to: 'a' },
    ],
    1,
  );
  const [x, y, z] = layout.arrows;
  assert.ok(x !== undefined && y !== undefined && z !== undefined);
  // a is above b: a → b runs down and bends to its left (the page's right); b → a the other way.
  assert.equal(x.anchor, 'start');
  assert.equal(z.anchor, 'end');
  assert.ok(Math.abs(y.label.y - x.label.y) >= 16);
  assert.ok(z.label.x < x.label.x);
  // Horizontal ones are centred over their curve.
  assert.equal(
    layoutPlan(['a', 'b'], [{ order: 1, guest: 'x', from: 'a', to: 'b' }], 2).arrows[0]?.anchor,
    'middle',
  );
});
