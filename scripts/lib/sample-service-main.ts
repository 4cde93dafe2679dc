import { startSampleService } from './sample-service'

/** Runs the sample REST service as its own process (benchmark, demo); prints {"url":…}; stops on SIGTERM. */
startSampleService(Number(process.argv[2] ?? 0)).then((service) => {
  process.stdout.write(`${JSON.stringify({ url: service.url })}\n`)
  process.on('SIGTERM', () => {
    service.close().then(() => process.exit(0))
  })
})
