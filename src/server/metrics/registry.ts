/**
 * FusionMetrics: one prom-client Registry per server (the default registry would clash when two
 * servers share a process) and get-or-create helpers through which any module registers its
 * series. The helpers work whether or not metrics are enabled, so modules call them
 * unconditionally; only an enabled server serves them at `/api/metrics`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FusionMetricsConfig } from './config.js';

/** What every series is declared with. */
export interface SeriesOptions<L extends string> {
  /** Prometheus name: `[a-zA-Z_:][a-zA-Z0-9_:]*`; prefix it with your service (`scan_jobs_total`). */
  name: string;
  /** One line shown as `# HELP`. */
  help: string;
  /** Label names (keep their values few: a route template, a status, never a guid). */
  labelNames?: readonly L[];
}

/** A gauge whose value is read when scraped. */
export interface GaugeOptions<L extends string> extends SeriesOptions<L> {
  /** Called at each scrape to set the gauge (`gauge.set(...)`); may be async. */
  collect?: (gauge: Gauge<L>) => void | Promise<void>;
}

/** A histogram, with its bucket bounds. */
export interface HistogramOptions<L extends string> extends SeriesOptions<L> {
  /** Upper bounds of the buckets (default prom-client's, 5 ms to 10 s). */
  buckets?: number[];
}

type SeriesClass = typeof Counter | typeof Gauge | typeof Histogram;

/** A server's metrics: its registry and the helpers to add series to it. */
export class FusionMetrics {
  /** The server's own registry (never prom-client's global one). */
  readonly registry: Registry = new Registry();
  /** True when `metrics.enabled`: the server records request series and serves `/api/metrics`. */
  readonly enabled: boolean;

  constructor(config: FusionMetricsConfig) {
    this.enabled = config.enabled;
    if (config.enabled && config.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** The counter `name` (created on first call; later calls with the same name return it). */
  counter<L extends string = string>(options: SeriesOptions<L>): Counter<L> {
    return this.#getOrCreate(Counter, options, () => new Counter<L>({ ...this.#common(options) }));
  }

  /** The gauge `name` (created on first call); `collect` sets it at each scrape. */
  gauge<L extends string = string>(options: GaugeOptions<L>): Gauge<L> {
    const { collect } = options;
    return this.#getOrCreate(Gauge, options, () =>
      new Gauge<L>({
        ...this.#common(options),
        ...(collect === undefined
          ? {}
          : {
              collect(this: Gauge<L>) {
                return collect(this);
              },
            }),
      }),
    );
  }

  /** The histogram `name` (created on first call). */
  histogram<L extends string = string>(options: HistogramOptions<L>): Histogram<L> {
    return this.#getOrCreate(Histogram, options, () => new Histogram<L>({ ...this.#common(options), ...(options.buckets ? { buckets: options.buckets } : {}) }));
  }

  /** The text exposition of every series (Prometheus format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  #common<L extends string>(options: SeriesOptions<L>): { name: string; help: string; labelNames: readonly L[]; registers: Registry[] } {
    return { name: options.name, help: options.help, labelNames: options.labelNames ?? [], registers: [this.registry] };
  }

  #getOrCreate<T>(type: SeriesClass, options: SeriesOptions<string>, create: () => T): T {
    if (typeof options?.name !== 'string' || typeof options.help !== 'string' || options.help === '') {
      throw new TypeError('FusionMetrics: a series needs a name and a one-line help');
    }
    const existing = this.registry.getSingleMetric(options.name);
    if (existing === undefined) return create();
    if (!(existing instanceof type)) throw new TypeError(`FusionMetrics: '${options.name}' is registered already as another kind of series`);
    return existing as T;
  }
}
