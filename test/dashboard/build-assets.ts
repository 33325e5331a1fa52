// Vitest global setup: the browser tests load the dashboard the server serves from
// dist/dashboard/assets, so it is rebuilt from the sources first (esbuild, well under a second).
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build-dashboard.ts'], { stdio: 'inherit' });
}
