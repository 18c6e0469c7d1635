// Starts DynamoDB Local bound to 127.0.0.1 only.
//
// DynamoDB Local has no bind-address flag: its Jetty connector listens on every interface. This launcher
// builds the server exactly as the jar's own main() does (same command-line arguments), then reaches the
// private Jetty `server` field of DynamoDBProxyServer and sets the host of every network connector to
// 127.0.0.1 before start(). If that cannot be done it exits non-zero rather than listen on all interfaces.
//
// It never configures the jar's telemetry (the jar's main() does; with no configuration nothing is sent),
// and `-disableTelemetry` is passed as well by infra/stack.sh.
//
// Built by infra/setup.sh:  javac -cp DynamoDBLocal.jar -d .cache/ddb-launcher infra/local/LoopbackDynamoDb.java
// Run by infra/stack.sh:    java -Djava.library.path=.../DynamoDBLocal_lib -cp .cache/ddb-launcher:DynamoDBLocal.jar \
//                              LoopbackDynamoDb -inMemory -sharedDb -disableTelemetry -port P

import java.lang.reflect.Field;

import org.eclipse.jetty.server.AbstractNetworkConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;

import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackDynamoDb {
    private static final String HOST = "127.0.0.1";

    private LoopbackDynamoDb() {}

    public static void main(String[] args) throws Exception {
        final DynamoDBProxyServer proxy;
        try {
            proxy = ServerRunner.createServerFromCommandLineArgs(args);
        } catch (Exception e) {
            System.err.println("LoopbackDynamoDb: bad arguments: " + e.getMessage());
            System.exit(2);
            return;
        }

        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server jetty = (Server) field.get(proxy);

        int bound = 0;
        for (Connector connector : jetty.getConnectors()) {
            if (!(connector instanceof AbstractNetworkConnector)) {
                fail("unexpected connector type " + connector.getClass().getName());
            }
            ((AbstractNetworkConnector) connector).setHost(HOST);
            bound++;
        }
        if (bound == 0) {
            fail("no network connector found on the Jetty server");
        }

        proxy.start();

        for (Connector connector : jetty.getConnectors()) {
            AbstractNetworkConnector net = (AbstractNetworkConnector) connector;
            if (!HOST.equals(net.getHost())) {
                fail("connector host is " + net.getHost() + ", expected " + HOST);
            }
            System.err.println("LoopbackDynamoDb: listening on http://" + HOST + ":" + net.getLocalPort());
        }
        // Jetty's non-daemon threads keep the JVM alive; SIGTERM ends it.
    }

    private static void fail(String message) {
        System.err.println("LoopbackDynamoDb: " + message + "; refusing to listen on all interfaces");
        System.exit(3);
    }
}
