// A KDE-style client of org.karapace.Manager1 built from proxies that qdbusxml2cpp generates from
// the shipped XML at test time: lists environments, builds a manifest, follows the job's
// PropertiesChanged and Finished signals, and prints what it saw.
// Usage: qt_client BUS_ADDRESS MANIFEST NAME
#include <QtCore/QCoreApplication>
#include <QtCore/QTimer>
#include <cstdio>

#include "job1.h"
#include "manager1.h"

class Watcher : public QObject {
    Q_OBJECT
public slots:
    void changed(const QString&, const QVariantMap& props, const QStringList&) {
        if (props.contains("Progress")) std::printf("progress %d\n", props["Progress"].toInt());
        std::fflush(stdout);
    }
};

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    karapaceRegisterDBusTypes();
    auto bus = QDBusConnection::connectToBus(QString(argv[1]), "karapace-test");
    OrgKarapaceManager1Interface manager("org.karapace.Manager1", "/org/karapace/Manager1", bus);
    QDBusPendingReply<KarapaceEnvironmentList> envs = manager.ListEnvironments();
    envs.waitForFinished();
    if (envs.isError())
        return std::printf("ListEnvironments: %s\n", qPrintable(envs.error().message())), 1;
    std::printf("environments %d\n", static_cast<int>(envs.value().size()));
    for (const auto& e : envs.value())
        std::printf("env %s %s\n", qPrintable(e.name), qPrintable(e.state));

    QVariantMap options{{"name", QString(argv[3])}};
    QDBusPendingReply<QDBusObjectPath> path = manager.Build(QString(argv[2]), options);
    path.waitForFinished();
    if (path.isError()) return std::printf("Build: %s\n", qPrintable(path.error().message())), 1;
    OrgKarapaceJob1Interface job("org.karapace.Manager1", path.value().path(), bus);
    Watcher watcher;
    bus.connect("org.karapace.Manager1", path.value().path(), "org.freedesktop.DBus.Properties",
                "PropertiesChanged", &watcher, SLOT(changed(QString, QVariantMap, QStringList)));
    int code = 1;
    QObject::connect(&job, &OrgKarapaceJob1Interface::Finished,
                     [&](const QString& status, const QVariantMap& result, const QString& error,
                         const QString&) {
                         std::printf("finished %s %s %s\n", qPrintable(status),
                                     qPrintable(result.value("env_id").toString()),
                                     qPrintable(error));
                         code = status == "succeeded" ? 0 : 1;
                         app.quit();
                     });
    if (job.status() != "running") {  // over before the subscription
        std::printf("finished %s %s\n", qPrintable(job.status()),
                    qPrintable(job.result().value("env_id").toString()));
        return job.status() == "succeeded" ? 0 : 1;
    }
    QTimer::singleShot(120000, &app, [&] {
        std::printf("timeout\n");
        app.quit();
    });
    app.exec();
    std::printf("result name %s\n", qPrintable(job.result().value("name").toString()));
    return code;
}

#include "qt_client.moc"
