/**
 * Headless entry: runs the security server without Electron (`gatehouse serve`), stopping on signals.
 */
export { serve, findRendererDir, type ServeOptions, type RunningServer } from './serve'
