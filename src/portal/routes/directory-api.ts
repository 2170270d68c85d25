import type { App } from '../../app.js'

export default async function directoryApi (app: App): Promise<void> {
  void app
}
