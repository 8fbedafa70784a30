// Qt types for the structured arguments of org.karapace.Manager1, named by the
// org.qtproject.QtDBus.QtTypeName annotations in its interface XML, so that qdbusxml2cpp proxies
// compile:  qdbusxml2cpp -i karapace-qt-types.h -p manager1 org.karapace.Manager1.xml
// Call karapaceRegisterDBusTypes() once before the first call.
#pragma once

#include <QtCore/QList>
#include <QtCore/QMetaType>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtDBus/QDBusArgument>
#include <QtDBus/QDBusMetaType>

// ListEnvironments: (env_id, short_id, name, state, base_image, created, updated, sessions)
struct KarapaceEnvironment {
    QString envId, shortId, name, state, baseImage, created, updated;
    uint sessions = 0;
};
using KarapaceEnvironmentList = QList<KarapaceEnvironment>;

// ListSnapshots: (id, created, size in bytes, files)
struct KarapaceSnapshot {
    QString id, created;
    qulonglong size = 0, files = 0;
};
using KarapaceSnapshotList = QList<KarapaceSnapshot>;

// Export, Unexport, ListExports: (kind, name, source, files)
struct KarapaceExport {
    QString kind, name, source;
    QStringList files;
};
using KarapaceExportList = QList<KarapaceExport>;

// ListTemplates: (name, description, manifest text)
struct KarapaceTemplate {
    QString name, description, manifest;
};
using KarapaceTemplateList = QList<KarapaceTemplate>;

inline QDBusArgument& operator<<(QDBusArgument& arg, const KarapaceEnvironment& e) {
    arg.beginStructure();
    arg << e.envId << e.shortId << e.name << e.state << e.baseImage << e.created << e.updated
        << e.sessions;
    arg.endStructure();
    return arg;
}
inline const QDBusArgument& operator>>(const QDBusArgument& arg, KarapaceEnvironment& e) {
    arg.beginStructure();
    arg >> e.envId >> e.shortId >> e.name >> e.state >> e.baseImage >> e.created >> e.updated >>
        e.sessions;
    arg.endStructure();
    return arg;
}

inline QDBusArgument& operator<<(QDBusArgument& arg, const KarapaceSnapshot& s) {
    arg.beginStructure();
    arg << s.id << s.created << s.size << s.files;
    arg.endStructure();
    return arg;
}
inline const QDBusArgument& operator>>(const QDBusArgument& arg, KarapaceSnapshot& s) {
    arg.beginStructure();
    arg >> s.id >> s.created >> s.size >> s.files;
    arg.endStructure();
    return arg;
}

inline QDBusArgument& operator<<(QDBusArgument& arg, const KarapaceExport& e) {
    arg.beginStructure();
    arg << e.kind << e.name << e.source << e.files;
    arg.endStructure();
    return arg;
}
inline const QDBusArgument& operator>>(const QDBusArgument& arg, KarapaceExport& e) {
    arg.beginStructure();
    arg >> e.kind >> e.name >> e.source >> e.files;
    arg.endStructure();
    return arg;
}

inline QDBusArgument& operator<<(QDBusArgument& arg, const KarapaceTemplate& t) {
    arg.beginStructure();
    arg << t.name << t.description << t.manifest;
    arg.endStructure();
    return arg;
}
inline const QDBusArgument& operator>>(const QDBusArgument& arg, KarapaceTemplate& t) {
    arg.beginStructure();
    arg >> t.name >> t.description >> t.manifest;
    arg.endStructure();
    return arg;
}

Q_DECLARE_METATYPE(KarapaceEnvironment)
Q_DECLARE_METATYPE(KarapaceEnvironmentList)
Q_DECLARE_METATYPE(KarapaceSnapshot)
Q_DECLARE_METATYPE(KarapaceSnapshotList)
Q_DECLARE_METATYPE(KarapaceExport)
Q_DECLARE_METATYPE(KarapaceExportList)
Q_DECLARE_METATYPE(KarapaceTemplate)
Q_DECLARE_METATYPE(KarapaceTemplateList)

inline void karapaceRegisterDBusTypes() {
    qDBusRegisterMetaType<KarapaceEnvironment>();
    qDBusRegisterMetaType<KarapaceEnvironmentList>();
    qDBusRegisterMetaType<KarapaceSnapshot>();
    qDBusRegisterMetaType<KarapaceSnapshotList>();
    qDBusRegisterMetaType<KarapaceExport>();
    qDBusRegisterMetaType<KarapaceExportList>();
    qDBusRegisterMetaType<KarapaceTemplate>();
    qDBusRegisterMetaType<KarapaceTemplateList>();
}
