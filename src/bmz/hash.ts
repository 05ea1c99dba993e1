/** Lower-case hex SHA-256 of `bytes` with WebCrypto (Node ≥ 20 and browsers). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const owned = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', owned));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
