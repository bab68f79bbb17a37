import { describe, expect, it } from '@jest/globals';
import { Counter, Gauge, Histogram, register as globalRegistry } from 'prom-client';
import { FusionMetrics } from '../../../src/server/metrics/registry.js';
import { sample } from './scrape.js';

const enabled = (): FusionMetrics => new FusionMetrics({ enabled: true, processMetrics: false });

describe('FusionMetrics (the API other modules register series with)', () => {
  it('gets or creates: the same name gives the same series; another kind under that name is a TypeError', () => {
    const metrics = enabled();
    const jobs = metrics.counter({ name: 'scan_jobs_total', help: 'Scan jobs run', labelNames: ['status'] });
    expect(jobs).toBeInstanceOf(Counter);
    expect(metrics.counter({ name: 'scan_jobs_total', help: 'Scan jobs run', labelNames: ['status'] })).toBe(jobs);
    expect(() => metrics.gauge({ name: 'scan_jobs_total', help: 'not a gauge' })).toThrow(/another kind of series/);
    expect(() => metrics.counter({ name: 'no_help', help: '' })).toThrow(TypeError);
    expect(metrics.histogram({ name: 'scan_seconds', help: 'Scan time', buckets: [1, 10] })).toBeInstanceOf(Histogram);
  });

  it('shows registered series in the text exposition; a gauge collect runs at each scrape', async () => {
    const metrics = enabled();
    metrics.counter<'status'>({ name: 'scan_jobs_total', help: 'Scan jobs run', labelNames: ['status'] }).inc({ status: 'done' }, 2);
    let depth = 5;
    metrics.gauge({ name: 'scan_queue_depth', help: 'Queued scans', collect: (gauge) => gauge.set(depth) });
    metrics.histogram({ name: 'scan_seconds', help: 'Scan time', buckets: [1, 10] }).observe(3);
    let text = await metrics.text();
    expect(text).toContain('# HELP scan_jobs_total Scan jobs run');
    expect(sample(text, 'scan_jobs_total', { status: 'done' })).toBe(2);
    expect(sample(text, 'scan_queue_depth')).toBe(5);
    expect(sample(text, 'scan_seconds_bucket', { le: '1' })).toBe(0);
    expect(sample(text, 'scan_seconds_bucket', { le: '10' })).toBe(1);
    depth = 7;
    text = await metrics.text();
    expect(sample(text, 'scan_queue_depth')).toBe(7);
    expect(metrics.contentType).toMatch(/^text\/plain/);
  });

  it('keeps each instance on its own registry, never the global one', async () => {
    const a = enabled();
    const b = enabled();
    a.counter({ name: 'same_name_total', help: 'in a' }).inc();
    expect(() => b.counter({ name: 'same_name_total', help: 'in b' })).not.toThrow();
    expect(sample(await a.text(), 'same_name_total')).toBe(1);
    expect(sample(await b.text(), 'same_name_total')).toBe(0);
    expect(globalRegistry.getSingleMetric('same_name_total')).toBeUndefined();
    expect(a.gauge({ name: 'g', help: 'g' })).toBeInstanceOf(Gauge);
  });

  it('adds the process series only with process_metrics', async () => {
    expect(await enabled().text()).not.toContain('process_cpu_seconds_total');
    const withProcess = new FusionMetrics({ enabled: true, processMetrics: true });
    expect(await withProcess.text()).toContain('process_cpu_seconds_total');
  });
});
