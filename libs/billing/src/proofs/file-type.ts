/** The kinds of payment proof we accept, recognised by their leading bytes. */
export interface ProofFileType {
  mimeType: 'image/png' | 'image/jpeg' | 'image/webp' | 'application/pdf';
  ext: 'png' | 'jpg' | 'webp' | 'pdf';
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
const RIFF = Buffer.from('RIFF', 'latin1');
const WEBP = Buffer.from('WEBP', 'latin1');
const PDF = Buffer.from('%PDF-', 'latin1');

function startsWith(buf: Buffer, sig: Buffer, at = 0): boolean {
  return buf.length >= at + sig.length && buf.subarray(at, at + sig.length).equals(sig);
}

/**
 * What the bytes are, judged by content only: the client's mimetype and file name are never trusted
 * (a text file named .png, an SVG or an executable is none of these). Undefined when unsupported.
 */
export function detectProofType(buf: Buffer): ProofFileType | undefined {
  if (startsWith(buf, PNG)) return { mimeType: 'image/png', ext: 'png' };
  if (startsWith(buf, JPEG)) return { mimeType: 'image/jpeg', ext: 'jpg' };
  if (startsWith(buf, RIFF) && startsWith(buf, WEBP, 8)) return { mimeType: 'image/webp', ext: 'webp' };
  if (startsWith(buf, PDF)) return { mimeType: 'application/pdf', ext: 'pdf' };
  return undefined;
}

/** The names we give stored proofs: 32 random hex characters and the extension of the detected type. */
export const STORAGE_NAME = /^[0-9a-f]{32}\.(png|jpg|webp|pdf)$/;
