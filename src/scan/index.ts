/** The scan feature module's public surface (the composition root imports only this). */
export { registerScanning, type ScanModule, type ScanModuleDeps } from './register.js';
export { readOsv, OsvFormatError, type ReadProgress } from './vulndb/read-osv.js';
export { DEFAULT_LAYER_LIMITS, type LayerLimits } from './layers/limits.js';
export { sbomAttacher } from './sbom-attach.js';
export { CYCLONEDX_MEDIA_TYPE } from './sbom-media-type.js';
