/**
 * The cloud-config key set of coreos-cloudinit (final upstream commit), as data. One table drives three
 * things: the JSON Schema (schemas/cloud-config.schema.json, checked through ajv), the "want <type>" wording
 * of type warnings (the validator's Go type names), and the order and names of the `Environment=` variables
 * written into service drop-ins.
 */

export type ScalarType = 'string' | 'int' | 'float64' | 'bool'

export interface FieldSpec {
  type: ScalarType | '[]string' | 'struct' | '[]struct'
  /** Environment variable coreos-cloudinit wrote for this key (service sections only). */
  env?: string
  /** coreos-cloudinit's deprecation message for this key. */
  deprecated?: string
  /** A value pattern; a value that does not match is an error ("invalid value"). */
  pattern?: string
  /** Fields of a struct or of each element of a []struct. */
  fields?: Record<string, FieldSpec>
}

const s = (env?: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({type: 'string', env, ...extra})
const i = (env?: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({type: 'int', env, ...extra})
const f = (env?: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({type: 'float64', env, ...extra})
const b = (env?: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({type: 'bool', env, ...extra})
const struct = (fields: Record<string, FieldSpec>, extra: Partial<FieldSpec> = {}): FieldSpec => ({type: 'struct', fields, ...extra})
const structs = (fields: Record<string, FieldSpec>): FieldSpec => ({type: '[]struct', fields})
const strings = (extra: Partial<FieldSpec> = {}): FieldSpec => ({type: '[]string', ...extra})

const ETCD2_GONE = 'etcd2 options no longer work for etcd'
const e2 = (type: 'string' | 'int' | 'bool', env: string): FieldSpec => ({type, env, deprecated: ETCD2_GONE})

export const ETCD2_FIELDS: Record<string, FieldSpec> = {
  advertise_client_urls: s('ETCD_ADVERTISE_CLIENT_URLS'),
  ca_file: s('ETCD_CA_FILE', {deprecated: 'ca_file obsoleted by trusted_ca_file and client_cert_auth'}),
  cert_file: s('ETCD_CERT_FILE'),
  client_cert_auth: b('ETCD_CLIENT_CERT_AUTH'),
  cors: s('ETCD_CORS'),
  data_dir: s('ETCD_DATA_DIR'),
  debug: b('ETCD_DEBUG'),
  discovery: s('ETCD_DISCOVERY'),
  discovery_fallback: s('ETCD_DISCOVERY_FALLBACK'),
  discovery_srv: s('ETCD_DISCOVERY_SRV'),
  discovery_proxy: s('ETCD_DISCOVERY_PROXY'),
  election_timeout: i('ETCD_ELECTION_TIMEOUT'),
  enable_pprof: b('ETCD_ENABLE_PPROF'),
  force_new_cluster: b('ETCD_FORCE_NEW_CLUSTER'),
  heartbeat_interval: i('ETCD_HEARTBEAT_INTERVAL'),
  initial_advertise_peer_urls: s('ETCD_INITIAL_ADVERTISE_PEER_URLS'),
  initial_cluster: s('ETCD_INITIAL_CLUSTER'),
  initial_cluster_state: s('ETCD_INITIAL_CLUSTER_STATE'),
  initial_cluster_token: s('ETCD_INITIAL_CLUSTER_TOKEN'),
  key_file: s('ETCD_KEY_FILE'),
  listen_client_urls: s('ETCD_LISTEN_CLIENT_URLS'),
  listen_peer_urls: s('ETCD_LISTEN_PEER_URLS'),
  log_package_levels: s('ETCD_LOG_PACKAGE_LEVELS'),
  max_snapshots: i('ETCD_MAX_SNAPSHOTS'),
  max_wals: i('ETCD_MAX_WALS'),
  name: s('ETCD_NAME'),
  peer_ca_file: s('ETCD_PEER_CA_FILE', {deprecated: 'peer_ca_file obsoleted peer_trusted_ca_file and peer_client_cert_auth'}),
  peer_cert_file: s('ETCD_PEER_CERT_FILE'),
  peer_key_file: s('ETCD_PEER_KEY_FILE'),
  peer_client_cert_auth: b('ETCD_PEER_CLIENT_CERT_AUTH'),
  peer_trusted_ca_file: s('ETCD_PEER_TRUSTED_CA_FILE'),
  proxy: s('ETCD_PROXY', {pattern: '^(on|off|readonly)$'}),
  proxy_dial_timeout: i('ETCD_PROXY_DIAL_TIMEOUT'),
  proxy_failure_wait: i('ETCD_PROXY_FAILURE_WAIT'),
  proxy_read_timeout: i('ETCD_PROXY_READ_TIMEOUT'),
  proxy_refresh_interval: i('ETCD_PROXY_REFRESH_INTERVAL'),
  proxy_write_timeout: i('ETCD_PROXY_WRITE_TIMEOUT'),
  snapshot_count: i('ETCD_SNAPSHOT_COUNT'),
  strict_reconfig_check: b('ETCD_STRICT_RECONFIG_CHECK'),
  trusted_ca_file: s('ETCD_TRUSTED_CA_FILE'),
  wal_dir: s('ETCD_WAL_DIR'),
}

/** etcd 0.4; it also listed the etcd2 keys, only to say they do not work there. */
export const ETCD_FIELDS: Record<string, FieldSpec> = {
  addr: s('ETCD_ADDR'),
  advertise_client_urls: e2('string', 'ETCD_ADVERTISE_CLIENT_URLS'),
  bind_addr: s('ETCD_BIND_ADDR'),
  ca_file: s('ETCD_CA_FILE'),
  cert_file: s('ETCD_CERT_FILE'),
  cluster_active_size: i('ETCD_CLUSTER_ACTIVE_SIZE'),
  cluster_remove_delay: f('ETCD_CLUSTER_REMOVE_DELAY'),
  cluster_sync_interval: f('ETCD_CLUSTER_SYNC_INTERVAL'),
  cors: s('ETCD_CORS'),
  data_dir: s('ETCD_DATA_DIR'),
  discovery: s('ETCD_DISCOVERY'),
  discovery_fallback: e2('string', 'ETCD_DISCOVERY_FALLBACK'),
  discovery_srv: e2('string', 'ETCD_DISCOVERY_SRV'),
  discovery_proxy: e2('string', 'ETCD_DISCOVERY_PROXY'),
  election_timeout: e2('int', 'ETCD_ELECTION_TIMEOUT'),
  force_new_cluster: e2('bool', 'ETCD_FORCE_NEW_CLUSTER'),
  graphite_host: s('ETCD_GRAPHITE_HOST'),
  heartbeat_interval: e2('int', 'ETCD_HEARTBEAT_INTERVAL'),
  http_read_timeout: f('ETCD_HTTP_READ_TIMEOUT'),
  http_write_timeout: f('ETCD_HTTP_WRITE_TIMEOUT'),
  initial_advertise_peer_urls: e2('string', 'ETCD_INITIAL_ADVERTISE_PEER_URLS'),
  initial_cluster: e2('string', 'ETCD_INITIAL_CLUSTER'),
  initial_cluster_state: e2('string', 'ETCD_INITIAL_CLUSTER_STATE'),
  initial_cluster_token: e2('string', 'ETCD_INITIAL_CLUSTER_TOKEN'),
  key_file: s('ETCD_KEY_FILE'),
  listen_client_urls: e2('string', 'ETCD_LISTEN_CLIENT_URLS'),
  listen_peer_urls: e2('string', 'ETCD_LISTEN_PEER_URLS'),
  max_result_buffer: i('ETCD_MAX_RESULT_BUFFER'),
  max_retry_attempts: i('ETCD_MAX_RETRY_ATTEMPTS'),
  max_snapshots: e2('int', 'ETCD_MAX_SNAPSHOTS'),
  max_wals: e2('int', 'ETCD_MAX_WALS'),
  name: s('ETCD_NAME'),
  peer_addr: s('ETCD_PEER_ADDR'),
  peer_bind_addr: s('ETCD_PEER_BIND_ADDR'),
  peer_ca_file: s('ETCD_PEER_CA_FILE'),
  peer_cert_file: s('ETCD_PEER_CERT_FILE'),
  peer_election_timeout: i('ETCD_PEER_ELECTION_TIMEOUT'),
  peer_heartbeat_interval: i('ETCD_PEER_HEARTBEAT_INTERVAL'),
  peer_key_file: s('ETCD_PEER_KEY_FILE'),
  peers: s('ETCD_PEERS'),
  peers_file: s('ETCD_PEERS_FILE'),
  proxy: e2('string', 'ETCD_PROXY'),
  retry_interval: f('ETCD_RETRY_INTERVAL'),
  snapshot: b('ETCD_SNAPSHOT'),
  snapshot_count: i('ETCD_SNAPSHOTCOUNT'),
  trace: s('ETCD_TRACE'),
  verbose: b('ETCD_VERBOSE'),
  very_verbose: b('ETCD_VERY_VERBOSE'),
  very_very_verbose: b('ETCD_VERY_VERY_VERBOSE'),
}

export const FLEET_FIELDS: Record<string, FieldSpec> = {
  agent_ttl: s('FLEET_AGENT_TTL'),
  authorized_keys_file: s('FLEET_AUTHORIZED_KEYS_FILE'),
  disable_engine: b('FLEET_DISABLE_ENGINE'),
  engine_reconcile_interval: f('FLEET_ENGINE_RECONCILE_INTERVAL'),
  etcd_cafile: s('FLEET_ETCD_CAFILE'),
  etcd_certfile: s('FLEET_ETCD_CERTFILE'),
  etcd_keyfile: s('FLEET_ETCD_KEYFILE'),
  etcd_key_prefix: s('FLEET_ETCD_KEY_PREFIX'),
  etcd_request_timeout: f('FLEET_ETCD_REQUEST_TIMEOUT'),
  etcd_servers: s('FLEET_ETCD_SERVERS'),
  etcd_username: s('FLEET_ETCD_USERNAME'),
  etcd_password: s('FLEET_ETCD_PASSWORD'),
  metadata: s('FLEET_METADATA'),
  public_ip: s('FLEET_PUBLIC_IP'),
  token_limit: i('FLEET_TOKEN_LIMIT'),
  verbosity: i('FLEET_VERBOSITY'),
  verify_units: b('FLEET_VERIFY_UNITS'),
}

export const FLANNEL_FIELDS: Record<string, FieldSpec> = {
  etcd_endpoints: s('FLANNELD_ETCD_ENDPOINTS'),
  etcd_cafile: s('FLANNELD_ETCD_CAFILE'),
  etcd_certfile: s('FLANNELD_ETCD_CERTFILE'),
  etcd_keyfile: s('FLANNELD_ETCD_KEYFILE'),
  etcd_prefix: s('FLANNELD_ETCD_PREFIX'),
  etcd_username: s('FLANNELD_ETCD_USERNAME'),
  etcd_password: s('FLANNELD_ETCD_PASSWORD'),
  ip_masq: s('FLANNELD_IP_MASQ'),
  subnet_file: s('FLANNELD_SUBNET_FILE'),
  interface: s('FLANNELD_IFACE'),
  public_ip: s('FLANNELD_PUBLIC_IP'),
}

const DAY = '(?:[Ss][Uu][Nn]|[Mm][Oo][Nn]|[Tt][Uu][Ee]|[Ww][Ee][Dd]|[Tt][Hh][Uu]|[Ff][Rr][Ii]|[Ss][Aa][Tt])'

export const LOCKSMITH_FIELDS: Record<string, FieldSpec> = {
  endpoint: s('LOCKSMITHD_ENDPOINT'),
  etcd_cafile: s('LOCKSMITHD_ETCD_CAFILE'),
  etcd_certfile: s('LOCKSMITHD_ETCD_CERTFILE'),
  etcd_keyfile: s('LOCKSMITHD_ETCD_KEYFILE'),
  etcd_username: s('LOCKSMITHD_ETCD_USERNAME'),
  etcd_password: s('LOCKSMITHD_ETCD_PASSWORD'),
  group: s('LOCKSMITHD_GROUP'),
  window_start: s('REBOOT_WINDOW_START', {pattern: `^(${DAY} )?0*([0-9]|1[0-9]|2[0-3]):0*([0-9]|[1-5][0-9])$`}),
  window_length: s('REBOOT_WINDOW_LENGTH', {pattern: '^[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+$'}),
}

export const UPDATE_FIELDS: Record<string, FieldSpec> = {
  reboot_strategy: s('REBOOT_STRATEGY', {pattern: '^(etcd-lock|reboot|off)$'}),
  group: s('GROUP'),
  server: s('SERVER'),
}

export const UNIT_COMMANDS = ['start', 'stop', 'restart', 'reload', 'try-restart', 'reload-or-restart', 'reload-or-try-restart'] as const

export const ENCODINGS = ['base64', 'b64', 'gz', 'gzip', 'gz+base64', 'gzip+base64', 'gz+b64', 'gzip+b64'] as const

const SSH_IMPORT = 'trying to fetch from a remote endpoint introduces too many intermittent errors'

export const CLOUD_CONFIG: FieldSpec = struct({
  ssh_authorized_keys: strings(),
  coreos: struct({
    etcd: struct(ETCD_FIELDS, {deprecated: 'etcd is no longer shipped in Container Linux'}),
    etcd2: struct(ETCD2_FIELDS, {deprecated: 'etcd2 is no longer shipped in Container Linux'}),
    flannel: struct(FLANNEL_FIELDS),
    fleet: struct(FLEET_FIELDS, {deprecated: 'fleet is no longer shipped in Container Linux'}),
    locksmith: struct(LOCKSMITH_FIELDS),
    oem: struct({id: s(), name: s(), version_id: s(), home_url: s(), bug_report_url: s()}),
    update: struct(UPDATE_FIELDS),
    units: structs({
      name: s(),
      mask: b(),
      enable: b(),
      runtime: b(),
      content: s(),
      command: s(undefined, {pattern: `^(${UNIT_COMMANDS.join('|')})$`}),
      drop_ins: structs({name: s(), content: s()}),
    }),
  }),
  write_files: structs({
    encoding: s(undefined, {pattern: `^(${ENCODINGS.map((e) => e.replace('+', '\\+')).join('|')})$`}),
    content: s(),
    owner: s(),
    path: s(),
    permissions: s(undefined, {pattern: '^0?[0-7]{3,4}$'}),
  }),
  hostname: s(),
  users: structs({
    name: s(),
    passwd: s(),
    ssh_authorized_keys: strings(),
    coreos_ssh_import_github: s(undefined, {deprecated: SSH_IMPORT}),
    coreos_ssh_import_github_users: strings({deprecated: SSH_IMPORT}),
    coreos_ssh_import_url: s(undefined, {deprecated: SSH_IMPORT}),
    gecos: s(),
    homedir: s(),
    no_create_home: b(),
    primary_group: s(),
    groups: strings(),
    no_user_group: b(),
    system: b(),
    no_log_init: b(),
    shell: s(),
  }),
  manage_etc_hosts: s(undefined, {pattern: '^localhost$'}),
})

const JSON_TYPE: Record<ScalarType, string> = {string: 'string', int: 'integer', float64: 'number', bool: 'boolean'}

/** JSON Schema (draft-07) of a field; `x-go-type` keeps the validator's type names for messages. */
export function fieldSchema(spec: FieldSpec): Record<string, unknown> {
  const meta: Record<string, unknown> = {'x-go-type': spec.type}
  if (spec.env) meta['x-env'] = spec.env
  if (spec.deprecated) meta['x-deprecated'] = spec.deprecated
  switch (spec.type) {
    case 'struct':
    case '[]struct': {
      const properties = Object.fromEntries(Object.entries(spec.fields ?? {}).map(([k, v]) => [k, fieldSchema(v)]))
      const object = {type: 'object', properties, additionalProperties: false}
      return spec.type === 'struct' ? {...meta, ...object} : {...meta, type: 'array', items: {'x-go-type': 'struct', ...object}}
    }
    case '[]string':
      return {...meta, type: 'array', items: {'x-go-type': 'string', type: 'string'}}
    default:
      return {...meta, type: JSON_TYPE[spec.type], ...(spec.pattern ? {pattern: spec.pattern} : {})}
  }
}

export function cloudConfigSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'coreos-cloudinit cloud-config (keys after "-" → "_" normalization)',
    ...fieldSchema(CLOUD_CONFIG),
  }
}
