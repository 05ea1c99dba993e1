export type Shown = 'n2v' | 'pn2v';

/** Which result the viewer shows once both N2V and PN2V have predicted. */
export function CompareToggle(props: { shown: Shown; hasN2v: boolean; onChange: (shown: Shown) => void }) {
  return (
    <fieldset class="compare" data-testid="compare">
      <legend>Result shown</legend>
      {(['n2v', 'pn2v'] as const).map((which) => (
        <label key={which}>
          <input
            type="radio"
            name="shown"
            value={which}
            data-testid={`show-${which}`}
            checked={props.shown === which}
            disabled={which === 'n2v' && !props.hasN2v}
            onChange={() => props.onChange(which)}
          />
          {which === 'n2v' ? 'N2V' : 'PN2V (posterior mean)'}
        </label>
      ))}
    </fieldset>
  );
}
