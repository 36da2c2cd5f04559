import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { Flow, SankeyController } from 'chartjs-chart-sankey';

// Only the parts the console draws (tree-shaken: line, bar and Sankey charts).
Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  SankeyController,
  Flow,
);

export const PALETTE = [
  '#4f46e5',
  '#0891b2',
  '#16a34a',
  '#ca8a04',
  '#dc2626',
  '#9333ea',
  '#db2777',
  '#475569',
];

/**
 * A Chart.js chart of `config`. The figure carries the labels and series it
 * was drawn from (`data-series`), which is also what a screen reader's table
 * below a chart shows.
 */
export function ChartView(props: {
  config: ChartConfiguration;
  height?: number;
  testid?: string;
  label: string;
}): JSX.Element {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | undefined>(undefined);
  useEffect(() => {
    if (canvas.current === null) return undefined;
    chart.current = new Chart(canvas.current, {
      ...props.config,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        ...props.config.options,
      },
    });
    return () => chart.current?.destroy();
  }, [props.config]);
  const series = {
    labels: props.config.data.labels ?? [],
    datasets: props.config.data.datasets.map((d) => ({ label: d.label ?? '', data: d.data })),
  };
  return (
    <figure
      class="chart"
      style={{ height: `${props.height ?? 260}px` }}
      data-testid={props.testid}
      data-series={JSON.stringify(series)}
    >
      <canvas ref={canvas} role="img" aria-label={props.label} />
    </figure>
  );
}
