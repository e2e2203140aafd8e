import { fail } from '../../errors.js';
import type { CatalogData, LogoInput } from '../../ports/public-registry.js';

/** ECR Public's limit on `logoImageBlob`. */
export const MAX_LOGO_BYTES = 512_000;

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

/**
 * The content type of a logo judged by its first bytes (never by a name or a declared type).
 * Throws `InvalidParameter` for anything but PNG or JPEG, and for more than 512,000 bytes.
 */
export function logoContentType(bytes: Buffer): 'image/png' | 'image/jpeg' {
  if (bytes.length > MAX_LOGO_BYTES) {
    throw fail('InvalidParameter', `Invalid parameter at 'logoImageBlob' failed to satisfy constraint: 'Member must have length less than or equal to ${MAX_LOGO_BYTES}'`);
  }
  if (bytes.subarray(0, PNG_MAGIC.length).equals(PNG_MAGIC)) return 'image/png';
  if (bytes.subarray(0, JPEG_MAGIC.length).equals(JPEG_MAGIC)) return 'image/jpeg';
  throw fail('InvalidParameter', "Invalid parameter at 'logoImageBlob' failed to satisfy constraint: 'the logo must be a PNG or JPEG image'");
}

/** Catalog input as ECR Public's `RepositoryCatalogDataInput` (the logo as raw bytes). */
export interface CatalogInput {
  description?: string;
  aboutText?: string;
  usageText?: string;
  architectures?: string[];
  operatingSystems?: string[];
  logoImageBlob?: Buffer;
}

export const EMPTY_CATALOG: CatalogData = Object.freeze({ description: '', aboutText: '', usageText: '', architectures: [], operatingSystems: [] });

/**
 * Merges `input` over `current` the way PutRepositoryCatalogData does (fields given replace,
 * fields left out stay) and checks the logo. Returns the new catalog and what to do with the logo.
 */
export function mergeCatalog(current: CatalogData, input: CatalogInput): { catalog: CatalogData; logo: LogoInput } {
  const catalog: CatalogData = {
    description: input.description ?? current.description,
    aboutText: input.aboutText ?? current.aboutText,
    usageText: input.usageText ?? current.usageText,
    architectures: dedupe(input.architectures ?? current.architectures),
    operatingSystems: dedupe(input.operatingSystems ?? current.operatingSystems),
  };
  let logo: LogoInput;
  if (input.logoImageBlob !== undefined) {
    logo = input.logoImageBlob.length === 0 ? null : { bytes: input.logoImageBlob, contentType: logoContentType(input.logoImageBlob) };
  }
  return { catalog, logo };
}

const dedupe = (xs: string[]): string[] => [...new Set(xs)];
