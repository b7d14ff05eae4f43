/**
 * THE chart of the console: remaining memory (and remaining disk, while a storage copy runs)
 * over the seconds since the migration started, drawn by uPlot and fed point by point. The
 * figure's data-points attribute counts the samples plotted (the browser tests read it).
 * @module
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatBytes, formatSeconds } from '../format.js';
import type { ChartPoint } from '../phase.js';

interface Props {
  points: readonly ChartPoint[];
  /** Changes whenever points were appended (the array itself is appended in place). */
  count: number;
}

const HEIGHT = 220;

function chartData(points: readonly ChartPoint[], withDisk: boolean): uPlot.AlignedData {
  const xs = points.map((p) => p.seconds);
  const memory = points.map((p) => p.memory);
  return withDisk ? [xs, memory, points.map((p) => p.disk)] : [xs, memory];
}

function options(width: number, withDisk: boolean): uPlot.Options {
  const bytes = (_u: uPlot, v: number | null): string => (v === null ? '—' : formatBytes(v));
  const series: uPlot.Series[] = [
    { label: 'Elapsed', value: (_u, v: number | null) => (v === null ? '—' : formatSeconds(v)) },
    {
      label: 'Memory remaining',
      stroke: '#2563eb',
      fill: 'rgba(37, 99, 235, 0.12)',
      width: 2,
      value: bytes,
    },
  ];
  if (withDisk)
    series.push({
      label: 'Disk remaining',
      stroke: '#c2410c',
      width: 2,
      dash: [6, 3],
      value: bytes,
    });
  return {
    width,
    height: HEIGHT,
    scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(max, 1)] } },
    series,
    axes: [
      { label: 'Seconds since start', values: (_u, splits) => splits.map((s) => `${s} s`) },
      { size: 80, values: (_u, splits) => splits.map((s) => formatBytes(s)) },
    ],
    // Values under the cursor would replace the labels with dashes whenever it is elsewhere.
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
  };
}

export function RemainingChart({ points, count }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<{ chart: uPlot; withDisk: boolean } | undefined>(undefined);
  const withDisk = points.some((p) => p.disk !== null);

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const width = Math.max(200, el.clientWidth);
    const current = plot.current;
    if (current === undefined || current.withDisk !== withDisk) {
      current?.chart.destroy();
      plot.current = {
        chart: new uPlot(options(width, withDisk), chartData(points, withDisk), el),
        withDisk,
      };
    } else current.chart.setData(chartData(points, withDisk));
  }, [count, withDisk, points]);

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const observer = new ResizeObserver(() => {
      plot.current?.chart.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.current?.chart.destroy();
      plot.current = undefined;
    };
  }, []);

  return (
    <figure class="chart" aria-label="Remaining data chart" data-points={String(count)}>
      <div ref={box} class="chart-box" />
      <figcaption>
        Remaining memory{withDisk ? ' and disk' : ''} to send, over time
        {count === 0 ? ' (waiting for the first sample…)' : ''}
      </figcaption>
    </figure>
  );
}
