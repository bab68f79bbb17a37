/** Writes docs/errors.md from the FUSION_ERRORS table (run: npx tsx scripts/errors-doc.ts). */
import { writeFileSync } from 'node:fs';
import { FUSION_ERRORS } from '../src/helper/errors.js';

const rows = Object.entries(FUSION_ERRORS).map(([code, { status, hint }]) => `| \`${code}\` | ${status} | ${hint} |`);
const text = `# Error codes

Every error the framework raises on purpose carries a stable \`code\`. The server puts it in the
error envelope (\`{"status": 404, "message": "...", "code": "FUSION_ERR_CASE_NOT_FOUND",
"request_id": "..."}\`) and the client exposes it as \`FusionClientError.code\`: match on the code,
never on the message. Codes are never renamed or reused. This page is generated from
\`src/helper/errors.ts\` by \`npx tsx scripts/errors-doc.ts\`; a test keeps the two in step.

| Code | Status | What to do |
|---|---|---|
${rows.join('\n')}
`;
writeFileSync(new URL('../docs/errors.md', import.meta.url), text);
