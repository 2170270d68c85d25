import type { App } from '../../app.js'

export default async function registryApi (app: App): Promise<void> {
  void app
}
