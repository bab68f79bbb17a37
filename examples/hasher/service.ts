/** The hasher service module: an analyzer running sha256sum over a case's files, its output zipped. */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AnalyzerInfo } from '../../src/concept/index.js';
import { defineAnalyzer } from '../../src/server/analyzer/analyzer.js';
import { defineService } from '../../src/server/service-module.js';

const hasher = defineAnalyzer({
  info: new AnalyzerInfo({ name: 'hasher', version: '1.0.0', tags: ['hash'] }),
  async process(analysis, context) {
    // This service keeps each case's files in <hasher.files>/<case_guid>/ (its own config section).
    const { files } = context.extra.hasher as { files: string };
    const folder = join(files, analysis.case_guid);
    const names = (await readdir(folder)).sort();
    await context.log(`hashing ${names.length} file(s)`);
    // A real command, no shell; its output goes to the analysis log, a timeout fails the analysis.
    const result = await context.run(['sha256sum', '--', ...names], { cwd: folder });
    // What is left in outputDirectory is zipped into output.zip when the analysis succeeds.
    await writeFile(join(context.outputDirectory, 'sha256sums.txt'), result.stdout);
  },
});

export default defineService({
  sections: { hasher: (reader) => ({ files: reader.filePath('files') }) },
  analyzers: [hasher],
});
