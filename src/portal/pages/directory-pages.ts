import type { App } from '../../app.js'

export default async function directoryPages (app: App): Promise<void> {
  void app
}
