/* A GNOME-style client of org.karapace.Manager1 built from code that gdbus-codegen generates
 * from the shipped XML at test time: lists environments, builds a manifest, follows the job's
 * g-properties-changed and Finished signals, and prints what it saw.
 * Usage: glib_client BUS_ADDRESS MANIFEST NAME */
#include <stdio.h>

#include "karapace-generated.h"

static GMainLoop* loop;
static int code = 1;

static void on_changed(GDBusProxy* proxy, GVariant* changed, GStrv invalidated, gpointer data) {
    gint32 progress;
    (void)proxy, (void)invalidated, (void)data;
    if (g_variant_lookup(changed, "Progress", "i", &progress)) printf("progress %d\n", progress);
    fflush(stdout);
}

static void on_finished(KpJob1* job, const gchar* status, GVariant* result, const gchar* error,
                        const gchar* message, gpointer data) {
    const gchar* env_id = "";
    (void)job, (void)message, (void)data;
    g_variant_lookup(result, "env_id", "&s", &env_id);
    printf("finished %s %s %s\n", status, env_id, error);
    code = g_strcmp0(status, "succeeded") == 0 ? 0 : 1;
    g_main_loop_quit(loop);
}

int main(int argc, char** argv) {
    GError* err = NULL;
    GDBusConnection* bus;
    KpManager1* manager;
    KpJob1* job;
    GVariant *envs, *result;
    GVariantBuilder options;
    gchar* path = NULL;
    const gchar* name;
    if (argc < 4) return 2;
    bus = g_dbus_connection_new_for_address_sync(argv[1],
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                 NULL, NULL, &err);
    if (!bus) return printf("connect: %s\n", err->message), 1;
    manager = kp_manager1_proxy_new_sync(bus, G_DBUS_PROXY_FLAGS_NONE, "org.karapace.Manager1",
                                         "/org/karapace/Manager1", NULL, &err);
    if (!manager || !kp_manager1_call_list_environments_sync(manager, &envs, NULL, &err))
        return printf("ListEnvironments: %s\n", err->message), 1;
    printf("environments %d\n", (int)g_variant_n_children(envs));
    g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&options, "{sv}", "name", g_variant_new_string(argv[3]));
    if (!kp_manager1_call_build_sync(manager, argv[2], g_variant_builder_end(&options), &path, NULL,
                                     &err))
        return printf("Build: %s\n", err->message), 1;
    job = kp_job1_proxy_new_sync(bus, G_DBUS_PROXY_FLAGS_NONE, "org.karapace.Manager1", path, NULL,
                                 &err);
    if (!job) return printf("job: %s\n", err->message), 1;
    loop = g_main_loop_new(NULL, FALSE);
    g_signal_connect(job, "g-properties-changed", G_CALLBACK(on_changed), NULL);
    g_signal_connect(job, "finished", G_CALLBACK(on_finished), NULL);
    if (g_strcmp0(kp_job1_get_status(job), "running") == 0)
        g_main_loop_run(loop);
    else
        code = g_strcmp0(kp_job1_get_status(job), "succeeded") == 0 ? 0 : 1;
    result = kp_job1_get_result(job);
    if (result && g_variant_lookup(result, "name", "&s", &name)) printf("result name %s\n", name);
    return code;
}
