// Runs NocoBase's own code on the environment we render (given as this process's environment) and
// prints what it made of it, as JSON. Usage: node nocobase.js VENDOR_DIR SERVER_VERSION APP_VERSION
const path = require("path");
const Module = require("module");
const [vendor, serverVersion, appVersion] = process.argv.slice(2);
const lib = (pkg, file) => path.join(vendor, pkg, "package", "lib", file);

// @nocobase/database's helpers.js requires the whole ORM for functions we do not call; the env
// reader parseDatabaseOptionsFromEnv only needs fs. Those modules stand in as empty objects.
const load = Module._load;
Module._load = function (request, parent, ...rest) {
  if (parent && parent.filename.endsWith(path.join("database-" + appVersion, "package", "lib", "helpers.js"))
      && (request === "./database" || request.startsWith("./dialects/"))) {
    return {};
  }
  return load.call(this, request, parent, ...rest);
};

(async () => {
  const out = {};
  const { AesEncryptor } = require(lib("server-" + serverVersion, "aes-encryptor.js"));
  try {
    const encryptor = await AesEncryptor.create({ name: "main" });
    const secret = await encryptor.encrypt("appcluster");
    out.aes = { ok: (await encryptor.decrypt(secret)) === "appcluster" };
    // What another version wrote under its key, read with this one's (a field encrypted before an upgrade).
    out.ciphertext = secret;
    if (process.env.APPCLUSTER_CIPHERTEXT) {
      out.decrypted = await encryptor.decrypt(process.env.APPCLUSTER_CIPHERTEXT).catch((error) => `(${error.code || error.message})`);
    }
  } catch (error) {
    out.aes = { ok: false, error: String(error.message || error) };
  }
  out.cache = require(lib("app-" + appVersion, path.join("config", "cache.js"))).cacheManager;
  const options = await require(lib("database-" + appVersion, "helpers.js")).parseDatabaseOptionsFromEnv();
  delete options.logging;
  out.database = options;
  process.stdout.write(JSON.stringify(out));
})().catch((error) => {
  process.stderr.write(String(error.stack || error));
  process.exit(1);
});
