// Prints "N passed, N failed" from vitest's JSON report. A missing or
// unreadable report counts as one failure, so a crashed run never looks green.
import { readFileSync } from 'node:fs';

const [reportPath, extraArg] = process.argv.slice(2);
const extraFailed = Number(extraArg ?? 0);
let passed = 0;
let failed = extraFailed;
try {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  // A file that fails to load has no tests but still fails the run.
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0)
      failed++;
  }
} catch (error) {
  console.log(`cannot read the test report ${reportPath}: ${error.message}`);
  failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
