import {translate, validate} from '../../src/ignition/index.js'
import {corpusFiles, ignitionExamples} from './helpers.js'

/**
 * Bench hook for scripts/bench.ts: translate and validate every corpus file (and validate every Ignition
 * example), returning how many files and the total wall time. Target: under 1 s.
 */
export async function benchCorpus(): Promise<{files: number; ms: number}> {
  const cloudConfigs = corpusFiles()
  const examples = ignitionExamples()
  const start = performance.now()
  for (const {name, text} of cloudConfigs) {
    translate(text, name)
    validate(text, name)
  }
  for (const {name, text} of examples) validate(text, name)
  return {files: cloudConfigs.length + examples.length, ms: performance.now() - start}
}
