/**
 * JSON Schemas (draft-07) of the Ignition 3.x specs keel supports, written from the specification documents
 * (docs/configuration-v3_*.md of coreos/ignition). One builder, parameterized by spec level, so the
 * differences between versions are stated once: 3.1 added httpHeaders, proxy, mountOptions and the shared
 * resource type; 3.2 added luks, shouldExist on users/groups and partition resize; 3.3 added
 * kernelArguments, made link targets and raid level/devices optional; 3.4.0-experimental requires version.
 * Unknown keys are `additionalProperties: false`, which keel reports as warnings (ignition-validate says
 * "unused key").
 */

export type SpecLevel = 0 | 1 | 2 | 3 | 4

type Schema = Record<string, unknown>

const str: Schema = {type: 'string'}
const optStr: Schema = {type: ['string', 'null']}
const optInt: Schema = {type: ['integer', 'null']}
const optBool: Schema = {type: ['boolean', 'null']}
const strArray: Schema = {type: 'array', items: str}
const ref = (name: string): Schema => ({$ref: `#/definitions/${name}`})
const arrayOf = (name: string): Schema => ({type: 'array', items: ref(name)})

function object(properties: Schema, required: string[] = []): Schema {
  return {type: 'object', properties, ...(required.length ? {required} : {}), additionalProperties: false}
}

function definitions(level: SpecLevel): Record<string, Schema> {
  const verification = object({hash: optStr})
  const resourceProps: Schema = {source: optStr, compression: optStr, verification: ref('verification')}
  if (level >= 1) resourceProps.httpHeaders = ref('httpHeaders')
  const nodeProps: Schema = {
    path: str,
    overwrite: optBool,
    user: object({id: optInt, name: optStr}),
    group: object({id: optInt, name: optStr}),
  }
  const defs: Record<string, Schema> = {
    verification,
    resource: object(resourceProps),
    file: object({...nodeProps, mode: optInt, contents: ref('resource'), append: arrayOf('resource')}, ['path']),
    directory: object({...nodeProps, mode: optInt}, ['path']),
    link: object({...nodeProps, target: level >= 3 ? optStr : str, hard: optBool}, level >= 3 ? ['path'] : ['path', 'target']),
    disk: object({device: str, wipeTable: optBool, partitions: arrayOf('partition')}, ['device']),
    partition: object({
      label: optStr,
      number: {type: 'integer'},
      sizeMiB: optInt,
      startMiB: optInt,
      typeGuid: optStr,
      guid: optStr,
      wipePartitionEntry: optBool,
      shouldExist: optBool,
      ...(level >= 2 ? {resize: optBool} : {}),
    }),
    raid: object(
      {name: str, level: level >= 3 ? optStr : str, devices: strArray, spares: optInt, options: strArray},
      level >= 3 ? ['name'] : ['name', 'level', 'devices'],
    ),
    filesystem: object(
      {
        device: str,
        format: optStr,
        path: optStr,
        wipeFilesystem: optBool,
        label: optStr,
        uuid: optStr,
        options: strArray,
        ...(level >= 1 ? {mountOptions: strArray} : {}),
      },
      ['device'],
    ),
    unit: object({name: str, enabled: optBool, mask: optBool, contents: optStr, dropins: arrayOf('dropin')}, ['name']),
    dropin: object({name: str, contents: optStr}, ['name']),
    user: object(
      {
        name: str,
        passwordHash: optStr,
        sshAuthorizedKeys: strArray,
        uid: optInt,
        gecos: optStr,
        homeDir: optStr,
        noCreateHome: optBool,
        primaryGroup: optStr,
        groups: strArray,
        noUserGroup: optBool,
        system: optBool,
        noLogInit: optBool,
        shell: optStr,
        ...(level >= 2 ? {shouldExist: optBool} : {}),
      },
      ['name'],
    ),
    group: object({name: str, gid: optInt, passwordHash: optStr, system: optBool, ...(level >= 2 ? {shouldExist: optBool} : {})}, ['name']),
  }
  if (level >= 1) {
    defs.httpHeaders = {type: 'array', items: object({name: str, value: optStr}, ['name'])}
    defs.proxy = object({httpProxy: optStr, httpsProxy: optStr, noProxy: {type: 'array', items: optStr}})
  }
  if (level >= 2) {
    defs.tang = object({url: str, thumbprint: optStr})
    defs.clevisCustom = object(
      {pin: level >= 3 ? optStr : str, config: level >= 3 ? optStr : str, needsNetwork: optBool},
      level >= 3 ? [] : ['pin', 'config'],
    )
    defs.clevis = object({custom: ref('clevisCustom'), tpm2: optBool, tang: arrayOf('tang'), threshold: optInt})
    defs.luks = object(
      {name: str, label: optStr, uuid: optStr, device: optStr, keyFile: ref('resource'), wipeVolume: optBool, clevis: ref('clevis'), options: strArray},
      ['name'],
    )
  }
  return defs
}

function ignitionSection(level: SpecLevel): Schema {
  // 3.0.0 had its own config/CA reference types (source required); 3.1.0 switched to the shared resource.
  const configRef = level >= 1 ? ref('resource') : object({source: str, verification: ref('verification')}, ['source'])
  const props: Schema = {
    version: level >= 4 ? str : optStr,
    config: object({merge: {type: 'array', items: configRef}, replace: configRef}),
    timeouts: object({httpResponseHeaders: optInt, httpTotal: optInt}),
    security: object({tls: object({certificateAuthorities: {type: 'array', items: configRef}})}),
  }
  if (level >= 1) props.proxy = ref('proxy')
  return object(props, level >= 4 ? ['version'] : [])
}

export function buildIgnitionSchema(version: string, level: SpecLevel): Schema {
  const storage: Schema = {
    disks: arrayOf('disk'),
    raid: arrayOf('raid'),
    filesystems: arrayOf('filesystem'),
    files: arrayOf('file'),
    directories: arrayOf('directory'),
    links: arrayOf('link'),
  }
  if (level >= 2) storage.luks = arrayOf('luks')
  const properties: Schema = {
    ignition: ignitionSection(level),
    storage: object(storage),
    systemd: object({units: arrayOf('unit')}),
    passwd: object({users: arrayOf('user'), groups: arrayOf('group')}),
  }
  if (level >= 3) properties.kernelArguments = object({shouldExist: strArray, shouldNotExist: strArray})
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `Ignition config, spec ${version}`,
    type: 'object',
    properties,
    required: ['ignition'],
    additionalProperties: false,
    definitions: definitions(level),
  }
}
