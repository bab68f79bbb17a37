/**
 * `fusion completion bash|zsh`: a completion script made from the program's own command tree,
 * so every command (the ones other modules add included) completes with its sub-commands and options.
 */
import type { Command } from 'commander';

/** Each command path (`''`, `'case'`, `'case list'`) with the words that may follow it. */
export function completionTable(program: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const walk = (command: Command, path: string): void => {
    const subcommands = command.commands.filter((sub) => sub.name() !== 'help');
    const options = command.options.flatMap((option) => [option.short, option.long]).filter((flag): flag is string => typeof flag === 'string');
    table.set(path, [...subcommands.map((sub) => sub.name()), ...options, '--help']);
    for (const sub of subcommands) walk(sub, path === '' ? sub.name() : `${path} ${sub.name()}`);
  };
  walk(program, '');
  return table;
}

function wordsFunction(name: string, table: Map<string, string[]>): string {
  const cases = [...table].map(([path, words]) => `    '${path}') echo '${words.join(' ')}' ;;`);
  return [`${name}() {`, '  case "$1" in', ...cases, '  esac', '}'].join('\n');
}

/** The bash script (`source <(fusion completion bash)`). */
export function bashCompletion(program: Command): string {
  return `# fusion completion for bash: add to ~/.bashrc:  source <(fusion completion bash)
${wordsFunction('_fusion_words', completionTable(program))}
_fusion_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in -*) continue ;; esac
    case " $(_fusion_words "$path") " in *" $word "*) path="\${path:+$path }$word" ;; esac
  done
  COMPREPLY=($(compgen -W "$(_fusion_words "$path")" -- "$cur"))
}
complete -o default -F _fusion_complete fusion
`;
}

/** The zsh script (`source <(fusion completion zsh)` after compinit). */
export function zshCompletion(program: Command): string {
  return `#compdef fusion
# fusion completion for zsh: add to ~/.zshrc after compinit:  source <(fusion completion zsh)
${wordsFunction('_fusion_words', completionTable(program))}
_fusion() {
  local path_="" word i
  local -a subs candidates
  for ((i = 2; i < CURRENT; i++)); do
    word="\${words[i]}"
    [[ "$word" == -* ]] && continue
    subs=(\${(s: :)"$(_fusion_words "$path_")"})
    (( \${subs[(Ie)$word]} )) && path_="\${path_:+$path_ }$word"
  done
  candidates=(\${(s: :)"$(_fusion_words "$path_")"})
  compadd -- $candidates
}
compdef _fusion fusion
`;
}
