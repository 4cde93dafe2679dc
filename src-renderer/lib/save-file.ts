/** Saves text or base64 bytes as a file download (the browser's save dialog; Electron routes it the same way). */
export function saveFile(fileName: string, mimeType: string, content: string, encoding: 'utf8' | 'base64'): void {
  const bytes = encoding === 'base64' ? Uint8Array.from(atob(content), (c) => c.charCodeAt(0)) : new TextEncoder().encode(content)
  saveBlob(fileName, new Blob([bytes], { type: mimeType }))
}

/** Saves a blob (e.g. a file the server streamed) as a file download. */
export function saveBlob(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = fileName
  link.rel = 'noopener'
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

/** Reads a chosen file as text (PEM, XML) or as base64 (DER). */
export async function readFileForUpload(file: File): Promise<{ content: string; encoding: 'utf8' | 'base64' }> {
  const bytes = new Uint8Array(await file.arrayBuffer())
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes)
  if (text.includes('-----BEGIN') || text.trimStart().startsWith('<')) return { content: text, encoding: 'utf8' }
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return { content: btoa(binary), encoding: 'base64' }
}
