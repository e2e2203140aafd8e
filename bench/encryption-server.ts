// A berth server for bench/encryption.ts: `node --import tsx bench/encryption-server.ts <data-dir>
// <port> <encrypted|plain>`. "plain" uses the app's benchmark seam (no encrypting wrapper), which
// no deployment can reach; it exists only so the cost of encryption can be measured side by side.
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';

const [dataDir, port, mode] = process.argv.slice(2);
if (!dataDir || !port || (mode !== 'encrypted' && mode !== 'plain')) {
  console.error('usage: encryption-server.ts <data-dir> <port> <encrypted|plain>');
  process.exit(2);
}
const config = await loadConfig({ flags: { dataDir, listen: `127.0.0.1:${port}` } });
const app = await createApp(config, { plaintextBlobs: mode === 'plain' });
await app.server.listen({ host: '127.0.0.1', port: Number(port) });
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
