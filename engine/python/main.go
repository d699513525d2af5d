// Command pulumi-language-python is a small Python language host for the Pulumi CLI.
//
// Pulumi's own host lives in an untagged module the Go proxy here does not serve, so appcluster
// builds this one from the SDK it does serve. It implements what `pulumi preview/up/destroy` and
// `--policy-pack` need: run the program with the SDK's pulumi-language-python-exec launcher
// (installed beside this binary) inside the project's virtualenv, and run Python policy packs
// with `python -m pulumi.policy`. Dependencies are installed by the project (make venv), so
// InstallDependencies only checks that the virtualenv exists; required plugins are left for the
// engine to resolve when resources register.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	pbempty "google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/grpc"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// The launcher exits with this code after it has already reported the error to the engine.
const exitAfterUserMessage = 32

var version = "dev"

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: pulumi-language-python ENGINE_ADDRESS")
		os.Exit(2)
	}
	h := &host{engineAddress: args[len(args)-1]}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "could not start the language host: %v\n", err)
		os.Exit(1)
	}
	// The CLI reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "language host stopped: %v\n", err)
		os.Exit(1)
	}
}

// python returns the interpreter of the project's virtualenv (runtime option `virtualenv`,
// relative to the project root), or python3 from PATH when the project names none.
func python(info *pulumirpc.ProgramInfo) (string, error) {
	venv := ""
	if info != nil && info.Options != nil {
		if v, ok := info.Options.AsMap()["virtualenv"].(string); ok {
			venv = v
		}
	}
	if venv == "" {
		return exec.LookPath("python3")
	}
	if !filepath.IsAbs(venv) {
		venv = filepath.Join(info.RootDirectory, venv)
	}
	interpreter := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(interpreter); err != nil {
		return "", fmt.Errorf("the virtualenv %s does not exist: create it first (make venv)", venv)
	}
	return interpreter, nil
}

func launcher() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	path := filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("pulumi-language-python-exec is missing beside %s", self)
	}
	return path, nil
}

func (h *host) Handshake(ctx context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.EngineAddress
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetProgramDependencies(context.Context, *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	interpreter, err := python(req.Info)
	if err != nil {
		return nil, err
	}
	out, _ := exec.CommandContext(ctx, interpreter, "--version").Output()
	return &pulumirpc.AboutResponse{Executable: interpreter, Version: strings.TrimPrefix(strings.TrimSpace(string(out)), "Python ")}, nil
}

func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, _ grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	_, err := python(req.Info)
	return err
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	interpreter, err := python(req.Info)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	exe, err := launcher()
	if err != nil {
		return nil, err
	}
	program := req.Program
	if req.Info != nil {
		program = filepath.Join(req.Info.ProgramDirectory, req.Info.EntryPoint)
	}
	args := []string{"-u", exe,
		"--monitor", req.MonitorAddress, "--engine", h.engineAddress,
		"--project", req.Project, "--stack", req.Stack, "--pwd", req.Pwd,
		"--dry_run", strconv.FormatBool(req.DryRun), "--parallel", strconv.Itoa(int(req.Parallel)),
		"--organization", req.Organization,
	}
	if req.Info != nil {
		args = append(args, "--root_directory", req.Info.RootDirectory)
	}
	args = append(append(args, program), req.Args...)

	config, err := json.Marshal(req.Config)
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(req.ConfigSecretKeys)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, interpreter, args...)
	cmd.Dir = req.Pwd
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			// The launcher has told the engine what went wrong; do not repeat it.
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin runs a Python policy pack (the only kind of plugin a Python project runs here).
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	interpreter, err := python(req.Info)
	if err != nil {
		return err
	}
	dir := req.Pwd
	if req.Info != nil {
		dir = req.Info.ProgramDirectory
	}
	cmd := exec.CommandContext(server.Context(), interpreter, append([]string{"-u", "-m", "pulumi.policy"}, append(req.Args, dir)...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), req.Env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	send := make(chan *pulumirpc.RunPluginResponse)
	pump := func(r io.Reader, wrap func([]byte) *pulumirpc.RunPluginResponse) {
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				send <- wrap(append([]byte(nil), buf[:n]...))
			}
			if err != nil {
				send <- nil
				return
			}
		}
	}
	go pump(stdout, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	})
	go pump(stderr, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	})
	for open := 2; open > 0; {
		msg := <-send
		if msg == nil {
			open--
			continue
		}
		if err := server.Send(msg); err != nil {
			return err
		}
	}
	code := 0
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return err
		}
		code = exit.ExitCode()
	}
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}
