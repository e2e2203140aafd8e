/** The media type of a CycloneDX SBOM (its blob and the `artifactType` of its referrer manifest). */
export const CYCLONEDX_MEDIA_TYPE = 'application/vnd.cyclonedx+json';
