// Runs NocoBase's token blacklist (@nocobase/plugin-auth) at start and on a sign-out, on the cache
// that NocoBase's own reader builds from this process's environment (our rendered wiring), through
// @nocobase/cache and a real Redis. The database is a table in memory that counts the lookups.
// Usage: node nocobase_auth.js VENDOR_DIR VERSION; prints JSON.
const path = require("path");
const [vendor, version] = process.argv.slice(2);
const { CacheManager } = require(path.join(vendor, "node_modules", "@nocobase", "cache"));
const { cacheManager } = require(path.join(vendor, "app-" + version, "package", "lib", "config", "cache.js"));
const { TokenBlacklistService } = require(
  path.join(vendor, "plugin-auth-" + version, "package", "dist", "server", "token-blacklist.js"));

(async () => {
  const rows = [];
  const out = { lookups: 0, warnings: [] };
  const repo = {
    find: async () => rows.filter((r) => r.expiration > new Date()).map((r) => ({ token: r.token })),
    findOne: async ({ filter }) => { out.lookups += 1; return rows.find((r) => r.token === filter.token) || null; },
    destroy: async () => 0,
    model: { findOrCreate: async ({ defaults }) => { rows.push(defaults); return [defaults, true]; } },
  };
  const listeners = {};
  const cache = new CacheManager(cacheManager);
  const app = {
    cacheManager: cache,
    on: (event, fn) => { listeners[event] = fn; },
    logger: { warn: (message, error) => out.warnings.push(`${message}: ${error && error.message}`) },
  };
  const blacklist = new TokenBlacklistService({ app, db: { getRepository: () => repo } });
  await listeners.beforeStart();
  out.bloomFilter = blacklist.bloomFilter !== null && blacklist.bloomFilter !== undefined;
  await blacklist.add({ token: "signed-out", expiration: new Date(Date.now() + 3600e3) });
  out.lookups = 0;
  out.signedOutRefused = await blacklist.has("signed-out");
  out.validAccepted = !(await blacklist.has("still-valid"));
  await cache.close();
  process.stdout.write(JSON.stringify(out));
})().catch((error) => {
  process.stderr.write(String(error.stack || error));
  process.exit(1);
});
