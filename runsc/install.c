/* runsc/install.c: `usandbox install`: registers usandbox as a runtime with docker (merged into daemon.json,
 * every other key kept) and with containerd (its runtime handler section, printed or appended), as runsc does. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "runsc/runsc.h"
#include "runsc/state.h"

#define DEFAULT_DOCKER_CONFIG "/etc/docker/daemon.json"
#define DEFAULT_RUNTIME_NAME "usandbox"
#define ERROR_SIZE 1024

static const char install_usage[] =
    "usage: usandbox install [--config FILE] [--runtime-name NAME] [--path BINARY] [-- RUNTIME-FLAGS...]\n"
    "       usandbox install --containerd [--containerd-config FILE] [--runtime-name NAME] [--path BINARY]\n"
    "  docker: adds runtimes.NAME (default usandbox) = {path, runtimeArgs} to FILE (default " DEFAULT_DOCKER_CONFIG
    "),\n"
    "          keeping every other key; RUNTIME-FLAGS (--network=none, --platform=ptrace...) become runtimeArgs.\n"
    "  containerd: prints the runtime handler section for containerd's config.toml, or appends it to FILE.\n";

/* Reads FILE as a JSON object: an empty or missing file is an empty object. NULL with a message otherwise. */
static struct json_object *read_docker_config(const char *path, char *error, size_t error_size)
{
    struct stat status;
    if (stat(path, &status) < 0) {
        if (errno == ENOENT)
            return json_object_new_object();
        snprintf(error, error_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (status.st_size == 0)
        return json_object_new_object();
    struct json_object *config = json_object_from_file(path);
    if (!config) {
        snprintf(error, error_size, "%s: not valid JSON: %s", path, json_util_get_last_err());
        return NULL;
    }
    if (!json_object_is_type(config, json_type_object)) {
        snprintf(error, error_size, "%s: the top level must be a JSON object", path);
        json_object_put(config);
        return NULL;
    }
    return config;
}


static int install_docker(const char *config_path, const char *name, const char *binary, char **runtime_args,
                          int runtime_arg_count)
{
    char error[ERROR_SIZE];
    struct json_object *config = read_docker_config(config_path, error, sizeof(error));
    if (!config) {
        fprintf(stderr, "usandbox install: %s\n", error);
        return 1;
    }
    struct json_object *runtimes = NULL;
    if (json_object_object_get_ex(config, "runtimes", &runtimes)) {
        if (!json_object_is_type(runtimes, json_type_object)) {
            fprintf(stderr, "usandbox install: %s: \"runtimes\" must be a JSON object\n", config_path);
            json_object_put(config);
            return 1;
        }
    } else {
        runtimes = json_object_new_object();
        json_object_object_add(config, "runtimes", runtimes);
    }
    struct json_object *runtime = json_object_new_object();
    json_object_object_add(runtime, "path", json_object_new_string(binary));
    if (runtime_arg_count > 0) {
        struct json_object *arguments = json_object_new_array();
        for (int i = 0; i < runtime_arg_count; i++)
            json_object_array_add(arguments, json_object_new_string(runtime_args[i]));
        json_object_object_add(runtime, "runtimeArgs", arguments);
    }
    /* Replaces an earlier entry of the same name: installing again updates it. */
    json_object_object_add(runtimes, name, runtime);
    const char *text = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
    struct text_buffer contents = {0};
    text_buffer_append(&contents, "%s\n", text);
    struct stat status;
    mode_t mode = stat(config_path, &status) == 0 ? (status.st_mode & 07777) : 0644;
    int result = state_write_file_atomically(config_path, contents.data, strlen(contents.data), mode);
    text_buffer_free(&contents);
    json_object_put(config);
    if (result < 0) {
        fprintf(stderr, "usandbox install: cannot write %s: %s\n", config_path, strerror(-result));
        return 1;
    }
    printf("Runtime %s added to %s; restart dockerd (or send it SIGHUP) and use docker run --runtime=%s\n", name,
           config_path, name);
    return 0;
}

static void containerd_section(struct text_buffer *out, const char *name, const char *binary)
{
    text_buffer_append(out,
                       "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.%s]\n"
                       "  runtime_type = \"io.containerd.runc.v2\"\n"
                       "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.%s.options]\n"
                       "  BinaryName = \"%s\"\n",
                       name, name, binary);
}

static int install_containerd(const char *config_path, const char *name, const char *binary)
{
    struct text_buffer section = {0};
    containerd_section(&section, name, binary);
    if (!config_path) {
        fputs(section.data, stdout);
        text_buffer_free(&section);
        return 0;
    }
    /* Appended, never merged: TOML tables cannot be repeated, so an existing handler of that name stops us. */
    FILE *existing = fopen(config_path, "re");
    struct text_buffer header = {0};
    text_buffer_append(&header, "containerd.runtimes.%s]", name);
    int result = 0;
    if (existing) {
        char line[4096];
        while (fgets(line, sizeof(line), existing)) {
            if (strstr(line, header.data)) {
                fprintf(stderr, "usandbox install: %s already has a runtime handler named %s; edit it there\n",
                        config_path, name);
                result = 1;
                break;
            }
        }
        fclose(existing);
    } else if (errno != ENOENT) {
        fprintf(stderr, "usandbox install: %s: %s\n", config_path, strerror(errno));
        result = 1;
    }
    if (result == 0) {
        int fd = open(config_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        struct text_buffer text = {0};
        text_buffer_append(&text, "\n%s", section.data);
        int written = fd < 0 ? -errno : write_all(fd, text.data, text.length);
        if (fd >= 0 && close(fd) < 0 && written == 0)
            written = -errno;
        text_buffer_free(&text);
        if (written < 0) {
            fprintf(stderr, "usandbox install: cannot write %s: %s\n", config_path, strerror(-written));
            result = 1;
        } else {
            printf("Runtime handler %s added to %s; restart containerd\n", name, config_path);
        }
    }
    text_buffer_free(&header);
    text_buffer_free(&section);
    return result;
}

/* Runtime names become JSON keys and TOML table names: keep them to what both take unquoted. */
static bool valid_runtime_name(const char *name)
{
    if (!name[0] || strlen(name) > 64)
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
              *c == '_'))
            return false;
    return true;
}

int runsc_install(int argc, char **argv)
{
    const char *config_path = NULL, *containerd_config = NULL, *name = DEFAULT_RUNTIME_NAME, *binary = NULL;
    bool containerd = false;
    int i = 0;
    for (; i < argc; i++) {
        const char *value;
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if ((value = runsc_take_value(argc, argv, &i, "config", NULL))) {
            config_path = value;
        } else if ((value = runsc_take_value(argc, argv, &i, "containerd-config", NULL))) {
            containerd_config = value;
            containerd = true;
        } else if ((value = runsc_take_value(argc, argv, &i, "runtime-name", NULL))) {
            name = value;
        } else if ((value = runsc_take_value(argc, argv, &i, "path", NULL))) {
            binary = value;
        } else if (runsc_is_flag(argv[i], "containerd", NULL)) {
            containerd = true;
        } else if (runsc_is_flag(argv[i], "help", "h")) {
            fputs(install_usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "usandbox install: unexpected argument %s\n%s", argv[i], install_usage);
            return 2;
        }
    }
    if (!valid_runtime_name(name)) {
        fprintf(stderr, "usandbox install: runtime name \"%s\": use letters, digits, - and _ (at most 64)\n", name);
        return 2;
    }
    char own_path[PATH_MAX];
    if (!binary) {
        ssize_t length = readlink("/proc/self/exe", own_path, sizeof(own_path) - 1);
        if (length <= 0) {
            fprintf(stderr, "usandbox install: cannot find my own path (%s); give --path\n", strerror(errno));
            return 1;
        }
        own_path[length] = '\0';
        binary = own_path;
    } else if (binary[0] != '/') {
        fprintf(stderr, "usandbox install: --path %s must be absolute\n", binary);
        return 2;
    }
    if (containerd) {
        if (i < argc) {
            /* containerd's runc shim passes BinaryName no arguments of ours. */
            fprintf(stderr, "usandbox install: containerd takes no runtime flags; use a wrapper script as "
                            "BinaryName to pass them\n");
            return 2;
        }
        return install_containerd(containerd_config, name, binary);
    }
    return install_docker(config_path ? config_path : DEFAULT_DOCKER_CONFIG, name, binary, &argv[i], argc - i);
}
