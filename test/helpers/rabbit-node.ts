// The private RabbitMQ node lives in bench/ (the storm bench starts its brokers with it too).
export * from '../../bench/rabbit-node.js'
