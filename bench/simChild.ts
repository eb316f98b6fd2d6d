/**
 * The simulator in its own process. argv[2]: JSON SimulatorOptions. Sends
 * {type:'ready', value:url}; answers {type:'stats'} with its counters; exits on {type:'close'}.
 */
import { startSimulator, type SimulatorOptions } from '../src/sim/index.js';
import { tell } from './lib.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as SimulatorOptions;
const sim = await startSimulator(opts);
process.on('message', (m: { type: string }) => {
  if (m.type === 'stats') {
    const s = sim.stats();
    void tell('stats', { requests: s.requests, submits: s.submits, statusPolls: s.statusPolls, rateLimited: s.rateLimited, created: s.created, downloads: s.downloads, callbacksSent: s.callbacksSent });
  } else if (m.type === 'close') {
    void sim.close().then(() => process.exit(0));
  }
});
await tell('ready', sim.url);
